"""Run an uploaded import in the background so the page can show its progress (the report row is the
shared state). Inline when CCMOPS_BACKGROUND_IMPORTS is off (tests)."""

from __future__ import annotations

import hashlib
import logging
import shutil
import threading
import zipfile
from pathlib import Path

from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

from ccmops.errors import InvalidInput
from ccmops.interop.models import ImportRun
from ccmops.interop.services import ImportRejected, Source, import_source

logger = logging.getLogger(__name__)
SUFFIXES = {"fhir": (".json",), "csv": (".csv",), "bulk": (".zip", ".ndjson", ".jsonl")}


def save_upload(practice, kind: str, upload) -> Path:
    name = Path(upload.name).name
    if not name.lower().endswith(SUFFIXES[kind]):
        raise InvalidInput(f"file: a {kind} import takes {' or '.join(SUFFIXES[kind])} files, got {name!r}")
    folder = Path(settings.CCMOPS_DATA_DIR) / "uploads" / str(practice.id)
    folder.mkdir(parents=True, exist_ok=True)
    h = hashlib.sha256()
    tmp = folder / f".{name}.part"
    with tmp.open("wb") as fh:
        for chunk in upload.chunks():
            h.update(chunk)
            fh.write(chunk)
    target = folder / f"{h.hexdigest()[:16]}-{name}"
    tmp.replace(target)
    if name.lower().endswith(".zip"):
        out = target.with_suffix("")
        if out.exists():
            shutil.rmtree(out)
        try:
            with zipfile.ZipFile(target) as z:
                for member in z.namelist():
                    if member.endswith("/"):
                        continue
                    base = Path(member).name
                    if base.endswith((".ndjson", ".jsonl")):
                        out.mkdir(exist_ok=True)
                        (out / base).write_bytes(z.read(member))
        except zipfile.BadZipFile:
            raise InvalidInput(f"file: {name} is not a valid zip archive") from None
        if not out.exists():
            raise InvalidInput(f"file: {name} holds no .ndjson files")
        return out
    return target


def start_import(*, practice, kind: str, path: Path, label: str, by) -> ImportRun:
    """Create the report row, then import (in a thread when background imports are on)."""
    run = ImportRun.objects.create(practice=practice, kind=kind, file_name=label, sha256="pending", created_by=by)
    source = Source(kind, path, label)

    def work() -> None:
        try:
            run.sha256 = source.digest()
            run.save(update_fields=["sha256"])
            import_source(practice=practice, source=source, by=by, run=run)
        except ImportRejected:
            pass  # the report row holds every problem

    def in_thread() -> None:
        close_old_connections()
        try:
            work()
        except Exception as exc:  # thread boundary: record the failure where the page shows it
            logger.exception("import %s failed", run.id)
            if ImportRun.objects.filter(pk=run.pk, chunked=True).exists():
                status, said = "interrupted", "import the same file again to resume it"
            else:  # written in one transaction: nothing of it was kept
                status, said = "failed", "nothing was written; import the file again"
            ImportRun.objects.filter(pk=run.pk).update(
                status=status,
                finished_at=None if status == "interrupted" else timezone.now(),
                problems=[f"The import stopped unexpectedly ({exc}); {said}."],
            )
        finally:
            close_old_connections()

    if getattr(settings, "CCMOPS_BACKGROUND_IMPORTS", True):
        threading.Thread(target=in_thread, name=f"import-{run.id}", daemon=True).start()
    else:
        work()
    run.refresh_from_db()
    return run
