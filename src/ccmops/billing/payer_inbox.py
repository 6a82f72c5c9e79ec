"""The practice's payer inbox (issue 35): a folder a clearinghouse's SFTP drop can point at,
`<data dir>/payer-inbox/<practice slug>/`. An hourly job (and `ccmops x12 sweep`) reads each file once — oldest
first, leaving alone a file written in the last minute (the drop may still be writing it) — and moves it to
`done/` when read (or read before), or to `failed/` beside a `<name>.reason.txt` saying why. Each file is read in
its own transaction and moved after it commits: a sweep cut short reads the rest next time, and a file read but
not yet moved is recognised as read (its sender and control number) and moved."""

from __future__ import annotations

import time
from pathlib import Path

from django.conf import settings

from ccmops.billing.payer_files import import_x12, said
from ccmops.errors import CcmopsError

SETTLE_SECONDS = 60


def inbox_folder(practice) -> Path:
    return Path(settings.CCMOPS_DATA_DIR) / "payer-inbox" / practice.slug


def _free(folder: Path, name: str) -> Path:
    """A name in `folder` that is not taken: `name`, else `name.2`, `name.3` …"""
    target, n = folder / name, 1
    while target.exists():
        n += 1
        target = folder / f"{name}.{n}"
    return target


def waiting(folder: Path, *, now: float | None = None) -> list[Path]:
    now = time.time() if now is None else now
    if not folder.is_dir():
        return []
    files = [p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")]
    return sorted((p for p in files if now - p.stat().st_mtime >= SETTLE_SECONDS), key=lambda p: p.stat().st_mtime)


def sweep(practice, *, by=None, now: float | None = None, progress=None) -> dict:
    """Read what waits in the practice's inbox; returns {read, already, failed: [{file, reason}]}."""
    folder = inbox_folder(practice)
    done, failed = folder / "done", folder / "failed"
    files = waiting(folder, now=now)
    out: dict = {"read": [], "already": [], "failed": []}
    for n, path in enumerate(files, start=1):
        try:
            text = path.read_text(encoding="ascii")
            file, new = import_x12(practice=practice, text=text, name=path.name, by=by)
        except (CcmopsError, UnicodeDecodeError, OSError) as exc:
            reason = str(exc) if isinstance(exc, CcmopsError) else f"{path.name}: not an X12 text file: {exc}"
            failed.mkdir(exist_ok=True)
            target = _free(failed, path.name)
            path.replace(target)
            target.with_name(target.name + ".reason.txt").write_text(reason + "\n", encoding="utf-8")
            out["failed"].append({"file": path.name, "reason": reason})
        else:
            done.mkdir(exist_ok=True)
            path.replace(_free(done, path.name))
            (out["read"] if new else out["already"]).append({"file": path.name, "said": said(file)})
        if progress is not None:
            progress(n, len(files))
    return out
