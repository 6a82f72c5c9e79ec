"""Structured logs: one JSON object per line (CCMOPS_LOG_FORMAT=json), carrying the request id, user, practice
and job of the work that wrote it, so the lines of one request or job can be found across app processes and
workers."""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
user: contextvars.ContextVar[str] = contextvars.ContextVar("user", default="")
practice: contextvars.ContextVar[str] = contextvars.ContextVar("practice", default="")
job: contextvars.ContextVar[str] = contextvars.ContextVar("job", default="")
FIELDS = {"request_id": request_id, "user": user, "practice": practice, "job": job}


class ContextFilter(logging.Filter):
    """Puts the current request's or job's identifiers on every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, var in FIELDS.items():
            setattr(record, name, var.get())
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in FIELDS:
            value = getattr(record, name, "")
            if value:
                out[name] = value
        if record.exc_info:
            out["error"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)
