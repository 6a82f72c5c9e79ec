"""`ccmops import fhir|bulk|csv PATH --practice SLUG`: import into a practice's registry, all or nothing."""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from ccmops.interop.jobs import start_import
from ccmops.interop.services import ImportRejected, Source, import_source
from ccmops.jobs.follow import describe, queued
from ccmops.organizations.models import User
from ccmops.organizations.services import practice_by_ref


class Command(BaseCommand):
    help = "Import FHIR Bundles, Bulk FHIR NDJSON or the ccmops CSV layout into a practice's patient registry."

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=["fhir", "ccda", "bulk", "csv"])
        parser.add_argument("paths", nargs="+", type=Path, help="files (fhir, csv) or a Bulk export directory")
        parser.add_argument("--practice", required=True, help="practice slug or id")
        parser.add_argument("--user", help="username the import is recorded under")
        parser.add_argument(
            "--queue", action="store_true", help="hand each import to the background workers (`ccmops worker`)"
        )
        parser.add_argument("--wait", action="store_true", help="with --queue: follow each job with a progress bar")

    def handle(self, *args, kind, paths, practice, user, queue: bool = False, wait: bool = False, **options):
        org = practice_by_ref(practice)
        by = User.objects.filter(username=user).first() if user else None
        failed = 0
        for path in paths:
            if not path.exists():
                raise CommandError(f"{path}: no such file or directory")
            if queue:
                failed += self._queued(org, kind, path, by, wait)
                continue
            with Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                TextColumn("{task.completed:,}/{task.total:,}"),
                TimeElapsedColumn(),
                transient=True,
                disable=not sys.stderr.isatty(),
            ) as bar:
                task = bar.add_task(f"importing {path.name}", total=None)
                try:
                    run = import_source(
                        practice=org,
                        source=Source(kind, path, path.name),
                        by=by,
                        progress=lambda done, total, task=task: bar.update(task, completed=done, total=total),
                    )
                except ImportRejected as exc:
                    failed += 1
                    self.stderr.write(str(exc))
                    continue
            self.stdout.write(f"{path.name}: imported {run.counted} into {org.name} (report #{run.id})")
            if run.unclassified_codes:
                self.stdout.write(
                    f"  codes not on the chronic-condition lists: {len(run.unclassified_codes)} "
                    f"(e.g. {', '.join(run.unclassified_codes[:5])})"
                )
        if failed:
            sys.exit(2)

    def _queued(self, org, kind: str, path: Path, by, wait: bool) -> int:
        """The import as a job for the workers (the file must be where they can read it: the shared data
        directory, or the same machine). Returns 1 if it failed."""
        _run, job = start_import(practice=org, kind=kind, path=path.resolve(), label=path.name, by=by)
        job = queued(job, wait=wait, out=self.stdout)
        if job is None:
            return 0
        self.stdout.write(f"{path.name}: {describe(job)}")
        return int(job.status == "failed")
