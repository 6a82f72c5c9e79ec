"""Sync in from the practice's EHR (issue 34): a Bulk Data export of the practice's Group — kicked off with `_since`
the start of the last successful run (the first run takes everything), its status polled as the server's
Retry-After says, every output file downloaded whole into a private folder — then read by ccmops's own Bulk import
(all or nothing, idempotent), and the practice screened again. A run that fails anywhere imports nothing and is
recorded with why; the next run asks again from the same `_since`, so nothing is skipped."""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from django.utils import timezone

from ccmops.ehr.client import EhrClient, EhrError
from ccmops.ehr.models import SyncRun
from ccmops.enrollment.jobs import start_screening
from ccmops.errors import CcmopsError, InvalidInput
from ccmops.interop.services import ImportRejected, Source, import_source
from ccmops.outbox.models import EhrConnection

LONGEST_POLL = 120  # seconds between two status requests, whatever Retry-After says
GIVE_UP_AFTER = 6 * 3600  # an export not ready in six hours is failed (the next run asks again)


def sync_in(practice, *, by=None, session=None, sleep=time.sleep) -> SyncRun:
    connection = EhrConnection.objects.filter(practice=practice).first()
    if connection is None or not connection.group_id:
        raise InvalidInput("The practice's EHR connection names no Group to export (Settings → EHR connection).")
    last = SyncRun.objects.filter(practice=practice, status="succeeded").order_by("-started_at").first()
    run = SyncRun.objects.create(practice=practice, started_at=timezone.now(), since=last.started_at if last else None)
    folder = Path(tempfile.mkdtemp(prefix="ccmops-sync-"))
    try:
        client = EhrClient(connection, session)
        status_url = client.export_kick_off(connection.group_id, run.since.isoformat() if run.since else None)
        started = time.monotonic()
        while True:
            manifest, wait = client.export_status(status_url)
            if manifest is not None:
                break
            if time.monotonic() - started > GIVE_UP_AFTER:
                raise EhrError("Bulk export: not ready after six hours", transient=True)
            sleep(min(wait, LONGEST_POLL))
        token = bool(manifest.get("requiresAccessToken", True))
        counts: dict[str, int] = {}
        for n, output in enumerate(manifest.get("output", [])):
            kind = output.get("type", "Resource")
            lines = client.download(output["url"], folder / f"{n:03d}-{kind}.ndjson", token=token)
            counts[kind] = counts.get(kind, 0) + lines
        run.files = counts
        if counts:
            run.import_run = import_source(
                practice=practice, source=Source("bulk", folder, f"EHR sync {run.id}"), by=by
            )
            start_screening(practice=practice, by=by)  # the changed patients may now be eligible, or no longer
        run.status = "succeeded"
    except ImportRejected as exc:
        run.status, run.error, run.import_run = "failed", f"the export was refused by the import: {exc}"[:1000], exc.run
    except (EhrError, CcmopsError, KeyError, ValueError) as exc:
        run.status, run.error = "failed", str(exc)[:1000]
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    run.finished_at = timezone.now()
    run.save()
    return run
