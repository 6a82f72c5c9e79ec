"""The audit chain's key and checkpoints (security review, item 3). Plain SHA-256 links let anyone with database
access edit an event and recompute the chain, or delete the newest events and roll the head back. So:

- each event's hash is an HMAC-SHA-256 under a key kept **outside the database** — `CCMOPS_AUDIT_KEYS` (one or
  more `ID:HEX` pairs, the last one signs new events) or, by default, the file `audit.keys` in CCMOPS_DATA_DIR,
  created with mode 0600 on first use. The key id is stored with each event, so keys rotate (append a new pair)
  and old events still verify. Events written before keys carry no id and verify as plain SHA-256.
- `ccmops audit checkpoint` writes a signed checkpoint of every chain head (its length and newest hash) to a
  file outside the database (`CCMOPS_AUDIT_CHECKPOINTS`, default `audit-checkpoints.jsonl` in the data directory,
  which the operator ships elsewhere) and to the log; `ccmops audit verify` checks the chains against every
  checkpoint, so truncation and recomputation are found.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import os
import secrets
import tempfile
from functools import lru_cache
from pathlib import Path

from django.conf import settings

log = logging.getLogger("ccmops.audit")


def _keys_file() -> Path:
    return Path(os.environ.get("CCMOPS_AUDIT_KEYS_FILE") or Path(settings.CCMOPS_DATA_DIR) / "audit.keys")


def checkpoints_file() -> Path:
    return Path(
        os.environ.get("CCMOPS_AUDIT_CHECKPOINTS") or Path(settings.CCMOPS_DATA_DIR) / "audit-checkpoints.jsonl"
    )


def _parse(text: str, where: str) -> list[tuple[str, bytes]]:
    out = []
    for n, raw in enumerate(text.replace(",", "\n").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key_id, sep, hexkey = line.partition(":")
        try:
            key = bytes.fromhex(hexkey.strip())
        except ValueError:
            key = b""
        if not sep or not key_id.strip() or len(key) < 32:
            raise ValueError(f"{where} line {n}: expected ID:HEX with a key of at least 32 bytes (64 hex digits)")
        out.append((key_id.strip(), key))
    return out


@lru_cache(maxsize=1)
def keys() -> tuple[tuple[str, bytes], ...]:
    """The audit keys, oldest first; the last signs new events. Created (0600) in the data directory when none is
    configured."""
    configured = os.environ.get("CCMOPS_AUDIT_KEYS", "").strip()
    if configured:
        return tuple(_parse(configured, "CCMOPS_AUDIT_KEYS"))
    path = _keys_file()
    if not path.exists():  # written whole, then linked into place: processes starting together share one key
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".audit-keys-")
        try:
            with os.fdopen(fd, "w") as fh:
                fh.write(f"k1:{secrets.token_hex(32)}\n")
            os.chmod(tmp, 0o600)
            try:
                os.link(tmp, path)
                log.warning("created the audit key file %s (mode 0600): keep a copy of it outside this machine", path)
            except FileExistsError:
                pass
        finally:
            os.unlink(tmp)
    return tuple(_parse(path.read_text(), str(path)))


def current_key_id() -> str:
    return keys()[-1][0]


def key_for(key_id: str) -> bytes | None:
    return dict(keys()).get(key_id)


def mac(key_id: str, message: str) -> str:
    key = key_for(key_id)
    if key is None:
        raise KeyError(key_id)
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def _checkpoint_body(heads: dict[int, tuple[int, str]], at: str, key_id: str) -> str:
    return json.dumps({"at": at, "key_id": key_id, "chains": {str(k): list(v) for k, v in sorted(heads.items())}},
                      sort_keys=True, separators=(",", ":"))  # fmt: skip


def write_checkpoint(heads: dict[int, tuple[int, str]]) -> dict:
    """Append a signed checkpoint of the chain heads {chain: (count, last hash)} to the checkpoints file (mode
    0600) and to the log."""
    at = dt.datetime.now(dt.UTC).isoformat()
    key_id = current_key_id()
    body = _checkpoint_body(heads, at, key_id)
    record = {**json.loads(body), "mac": mac(key_id, body)}
    path = checkpoints_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a") as fh:
        fh.write(json.dumps(record, sort_keys=True) + "\n")
    log.info("audit checkpoint %s", json.dumps(record, sort_keys=True))
    return record


def read_checkpoints(path: Path | None = None) -> tuple[list[dict], list[str]]:
    """The checkpoints whose signatures verify, and a problem for each that does not."""
    path = path or checkpoints_file()
    if not path.exists():
        return [], []
    good, problems = [], []
    for n, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            body = _checkpoint_body(
                {int(k): tuple(v) for k, v in record["chains"].items()}, record["at"], record["key_id"]
            )
            ok = hmac.compare_digest(mac(record["key_id"], body), record["mac"])
        except (ValueError, KeyError, TypeError):
            ok = False
        if ok:
            good.append(record)
        else:
            problems.append(f"{path} line {n}: checkpoint signature does not verify (edited, or an unknown key)")
    return good, problems
