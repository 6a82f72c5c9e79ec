"""Import use cases: validate a whole input first, reject it whole with every problem, or write it
(atomically, or for big inputs in checkpointed chunks that a re-run resumes). Each run keeps a report."""

from __future__ import annotations

import hashlib
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.db import connection, transaction
from django.utils import timezone

from ccmops.compliance.audit import record_audit
from ccmops.compliance.models import AuditAction
from ccmops.errors import InvalidInput
from ccmops.interop.ccda_read import read_ccda_text
from ccmops.interop.csv_read import read_csv_text
from ccmops.interop.fhir_read import bulk_files, read_bulk, read_bundle_text
from ccmops.interop.models import ImportRun
from ccmops.interop.records import Batch, Problem
from ccmops.interop.writer import qmb_problems, resolve_patients, write_batch
from ccmops.organizations.models import Organization
from ccmops.rules.conditions import classify

# How big an input is still written in one transaction. On PostgreSQL every input is (other writers are not
# held up: each transaction sees its own snapshot), so a crash leaves nothing of it and nothing is ever visible
# half written. SQLite has one writer at a time: an input over SQLITE_ATOMIC_LIMIT records (seconds of writing,
# see bench/README.md) is written in committed, resumable chunks so that care managers' writes are not held
# up past the busy timeout; until it succeeds the practice's month evaluations and closes wait for it.
SQLITE_ATOMIC_LIMIT = 250_000
ATOMIC_LIMIT: int | None = None  # set (in tests) to force chunked writing above this size on any database


def atomic_limit() -> int | None:
    """The largest input written in one transaction on this database (None: every input)."""
    if ATOMIC_LIMIT is not None:
        return ATOMIC_LIMIT
    return SQLITE_ATOMIC_LIMIT if connection.vendor == "sqlite" else None


Progress = Callable[[int, int], None]


class ImportRejected(InvalidInput):
    """The input has problems; nothing was written. `run.problems` lists each one."""

    def __init__(self, run: ImportRun):
        self.run = run
        shown = "\n".join(f"  {p}" for p in run.problems[:20])
        more = f"\n  … and {len(run.problems) - 20} more" if len(run.problems) > 20 else ""
        super().__init__(f"{run.file_name}: rejected, nothing imported ({len(run.problems)} problems):\n{shown}{more}")


@dataclass(frozen=True)
class Source:
    kind: str  # fhir | ccda | bulk | csv
    path: Path
    label: str

    def digest(self) -> str:
        h = hashlib.sha256()
        for p in bulk_files(self.path) if self.kind == "bulk" else [self.path]:
            with p.open("rb") as fh:
                while chunk := fh.read(1 << 20):
                    h.update(chunk)
        return h.hexdigest()


NUL_MESSAGE = "a NUL character (\\u0000) is not allowed in text data"


def _nul_line(lines) -> int | None:
    """The first line (1-based) holding a NUL character, raw or as a JSON escape; PostgreSQL stores neither."""
    for n, line in enumerate(lines, start=1):
        if "\x00" in line or "\\u0000" in line.lower():
            return n
    return None


def _rejected(label: str, line: int) -> Batch:
    b = Batch()
    b.problems.append(Problem(label, f"line {line}", "", NUL_MESSAGE))
    return b


def _document_text(source: Source) -> str | Batch:
    """A one-document input's text (a FHIR Bundle, a C-CDA document), or the Batch naming why it cannot be read."""
    try:
        text = source.path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        b = Batch()
        b.problems.append(Problem(source.label, f"byte {exc.start}", "", "not UTF-8 text"))
        return b
    if (line := _nul_line(text.splitlines())) is not None:
        return _rejected(source.label, line)
    return text


def read_source(source: Source) -> Batch:
    if source.kind in ("fhir", "ccda"):
        text = _document_text(source)
        if isinstance(text, Batch):
            return text
        return read_bundle_text(text, source.label) if source.kind == "fhir" else read_ccda_text(text, source.label)
    if source.kind == "csv":
        text = source.path.read_text(encoding="utf-8-sig")
        if (line := _nul_line(text.splitlines())) is not None:
            return _rejected(source.label, line)
        return read_csv_text(text, source.label)
    if source.kind == "bulk":
        for path in bulk_files(source.path):
            with path.open(encoding="utf-8", errors="replace") as fh:
                if (line := _nul_line(fh)) is not None:
                    return _rejected(f"{source.label}/{path.name}" if source.path.is_dir() else source.label, line)
        return read_bulk(
            bulk_files(source.path),
            source.label,
            named_by_file=source.path.is_dir(),
            workers=min(4, os.cpu_count() or 1),
        )
    raise InvalidInput(f"kind: expected fhir, ccda, bulk or csv, got {source.kind!r}")


def _storable(text: str) -> str:
    """Report text as the database can keep it: a NUL shown as ␀ rather than refused by PostgreSQL."""
    return text.replace("\x00", "\u2400")


def _unclassified(batch: Batch) -> list[str]:
    codes = sorted({(c.system, c.code) for c in batch.conditions})
    result = classify(codes)
    return sorted(set(result.unclassified) | {f"icd10cm:{c} (invalid)" for c in result.invalid})


def _counts(batch: Batch) -> dict:
    return {
        "resources_read": batch.resources_read,
        "patients": len(batch.patients),
        "conditions": len(batch.conditions),
        "encounters": len(batch.encounters),
        "coverages": len(batch.coverages),
        "qmb_periods": len(batch.qmb),
        "medications": len(batch.medications),
        "allergies": len(batch.allergies),
        "observations": len(batch.observations),
        "immunizations": len(batch.immunizations),
        "skipped": batch.skipped,
    }


def this_worker() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:100]


def _gone(worker: str) -> bool:
    """Whether the process that ran an import is no longer there (on this host; another host's is not judged)."""
    host, _, pid = worker.rpartition(":")
    if host != socket.gethostname() or not pid.isascii() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def fail_abandoned(practice) -> int:
    """Runs whose process died (killed, the machine restarted) are settled: one left "validating", or writing an
    input small enough to be written in one transaction, wrote nothing and is marked failed (import the file
    again); one writing a chunked input is marked interrupted, and importing the same file again resumes it.
    Returns how many were settled."""
    settled = 0
    for run in ImportRun.objects.filter(practice=practice, status__in=("validating", "writing")).exclude(worker=""):
        if not _gone(run.worker):
            continue
        if run.status == "writing" and run.chunked:
            ImportRun.objects.filter(pk=run.pk, status="writing").update(
                status="interrupted",
                problems=[f"The import stopped after {run.done:,} of {run.total:,} records (its process ended). "
                          "Import the same file again to resume; the practice's month closes wait until it has."],
            )  # fmt: skip
        else:
            stage = "validated" if run.status == "validating" else "written"
            ImportRun.objects.filter(pk=run.pk, status=run.status).update(
                status="failed",
                finished_at=timezone.now(),
                problems=[f"The import stopped while its file was being {stage} (its process ended); nothing was "
                          "written. Import the file again."],
            )  # fmt: skip
        settled += 1
    return settled


def part_written(practice) -> ImportRun | None:
    """A chunked import (SQLite, over its atomic limit) that has written some chunks and not finished: the practice's
    registry holds part of that file until it is resumed, so month evaluations and closes wait for it."""
    fail_abandoned(practice)
    return (
        ImportRun.objects.filter(practice=practice, status__in=("writing", "interrupted"), chunked=True)
        .order_by("started_at", "id")
        .first()
    )


def part_written_message(run: ImportRun, month: str) -> str:
    state = "is being written" if run.status == "writing" else "stopped part way"
    return (
        f"{month} cannot be evaluated or closed while the import of {run.file_name} {state} ({run.done:,} of "
        f"{run.total:,} records written): the registry holds only part of that file. "
        + ("Wait for it to finish." if run.status == "writing" else "Import the same file again to resume it.")
    )


def import_source(
    *, practice: Organization, source: Source, by=None, progress: Progress | None = None, run: ImportRun | None = None
) -> ImportRun:
    """Import one file (or Bulk export directory) into the practice's registry.

    Raises:
        ImportRejected: any problem in the input; nothing was written, the report lists every problem.
    """
    if not practice.is_practice:
        raise InvalidInput("practice: imports go into a practice's registry, not a partner's.")
    digest = source.digest()
    resumable = (
        ImportRun.objects.filter(practice=practice, sha256=digest, status__in=("writing", "interrupted"))
        .order_by("-id")
        .first()
    )
    fail_abandoned(practice)
    if run is None:
        run = resumable or ImportRun.objects.create(
            practice=practice, kind=source.kind, file_name=source.label, sha256=digest, created_by=by
        )
    ImportRun.objects.filter(pk=run.pk).update(worker=this_worker())
    batch = read_source(source)
    if not batch.problems:
        resolved = resolve_patients(batch, practice.id, source.label)
        if isinstance(resolved, list):
            batch.problems.extend(resolved)
        batch.problems.extend(qmb_problems(batch, practice.id, source.label))
    run.counts = _counts(batch)
    run.warnings = [_storable(str(w)) for w in batch.warnings[:500]]
    run.unclassified_codes = [_storable(c) for c in _unclassified(batch)]
    if batch.problems:
        run.status = "rejected"
        run.problems = [_storable(str(p)) for p in batch.problems[:1000]]
        run.finished_at = timezone.now()
        run.save()
        record_audit(
            action=AuditAction.CREATE,
            user=by,
            practice_id=practice.id,
            obj=run,
            outcome="rejected",
            detail={"file": source.label, "problems": len(batch.problems)},
        )
        raise ImportRejected(run)
    run.total = batch.record_count
    resuming = run.chunked and run.status in ("writing", "interrupted")
    start_at = run.done if resuming else 0
    limit = atomic_limit()
    run.chunked = resuming or (limit is not None and run.total > limit)
    run.status = "writing"
    run.save()

    def checkpoint(done: int) -> None:
        ImportRun.objects.filter(pk=run.pk).update(done=done)
        if progress is not None:
            progress(done, run.total)

    if not run.chunked:
        with transaction.atomic():
            write_batch(batch, practice.id, on_chunk=checkpoint)
            _finish(run, by, practice)
    else:
        write_batch(batch, practice.id, start_at=start_at, on_chunk=checkpoint)
        with transaction.atomic():
            _finish(run, by, practice)
    return run


def _finish(run: ImportRun, by, practice: Organization) -> None:
    run.refresh_from_db(fields=["done"])
    run.status = "succeeded"
    run.done = run.total
    run.finished_at = timezone.now()
    run.save()
    record_audit(
        action=AuditAction.CREATE,
        user=by,
        practice_id=practice.id,
        obj=run,
        detail={
            "file": run.file_name,
            "counts": run.counts,
        },
    )
