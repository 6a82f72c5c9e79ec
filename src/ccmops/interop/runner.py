"""An uploaded file kept under the data directory (by its digest) for the import job to read
(`ccmops.interop.jobs`)."""

from __future__ import annotations

import hashlib
import shutil
import zipfile
from pathlib import Path

from django.conf import settings

from ccmops.errors import InvalidInput

SUFFIXES = {"fhir": (".json",), "ccda": (".xml",), "csv": (".csv",), "bulk": (".zip", ".ndjson", ".jsonl")}


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
