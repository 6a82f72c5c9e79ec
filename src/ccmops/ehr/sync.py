"""Sync in from the practice's EHR (issue 34): a Bulk Data export of the practice's Group — kicked off with `_since`
the start of the last successful run (the first run takes everything), its status polled as the server's
Retry-After says, every output file downloaded whole into a private folder — then read by ccmops's own Bulk import
(all or nothing, idempotent), and the practice screened again. A run that fails anywhere imports nothing and is
recorded with why; the next run asks again from the same `_since`, so nothing is skipped.

For an EHR without Bulk Data (`sync_mode` "search"), the same run searches patient by patient: each patient of the
practice's registry found by MRN, read whole, and their conditions, encounters, coverage, medications, allergies,
observations and immunizations searched (`_lastUpdated` after the last successful run), written into the same
folder as NDJSON and read by the same import. Search brings the patients ccmops already has; new patients come by
Bulk or by an import."""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from pathlib import Path

from django.utils import timezone

from ccmops.ehr.client import SEARCHED, EhrClient, EhrError
from ccmops.ehr.models import SyncRun
from ccmops.enrollment.jobs import start_screening
from ccmops.errors import CcmopsError, InvalidInput
from ccmops.interop.services import ImportRejected, Source, import_source
from ccmops.outbox.models import EhrConnection
from ccmops.patients.models import Patient

LONGEST_POLL = 120  # seconds between two status requests, whatever Retry-After says
GIVE_UP_AFTER = 6 * 3600  # an export not ready in six hours is failed (the next run asks again)
NOT_FOUND = "Patient not found"  # counted by a search sync: patients whose MRN the EHR does not know (or twice)


def sync_in(practice, *, by=None, session=None, sleep=time.sleep) -> SyncRun:
    connection = EhrConnection.objects.filter(practice=practice).first()
    if connection is None:
        raise InvalidInput("The practice has no EHR connection (Settings → EHR connection).")
    if connection.sync_mode == "bulk" and not connection.group_id:
        raise InvalidInput("The practice's EHR connection names no Group to export (Settings → EHR connection).")
    last = SyncRun.objects.filter(practice=practice, status="succeeded").order_by("-started_at").first()
    run = SyncRun.objects.create(practice=practice, started_at=timezone.now(), since=last.started_at if last else None)
    folder = Path(tempfile.mkdtemp(prefix="ccmops-sync-"))
    try:
        client = EhrClient(connection, session)
        if connection.sync_mode == "search":
            counts = search_into(client, practice, folder, run.since)
        else:
            counts = _export_into(client, connection, folder, run.since, sleep)
        run.files = counts
        if any(kind != NOT_FOUND for kind in counts):
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


def _export_into(client: EhrClient, connection, folder: Path, since, sleep) -> dict[str, int]:
    """Run the Group's Bulk export and download its files into `folder`; the lines of each resource type."""
    status_url = client.export_kick_off(connection.group_id, since.isoformat() if since else None)
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
    return counts


def search_into(client: EhrClient, practice, folder: Path, since) -> dict[str, int]:
    """Search the EHR patient by patient into `folder` as NDJSON (one file per resource type); the resources of
    each type. A patient whose MRN the EHR does not know, or knows twice, is skipped and counted
    (`Patient not found`). A patient with nothing new since the last run brings nothing."""
    counts: dict[str, int] = {}
    out = {t: open(folder / f"{n:03d}-{t}.ndjson", "w", encoding="utf-8")  # noqa: SIM115 — closed below
           for n, t in enumerate(("Patient", *SEARCHED))}  # fmt: skip
    changed = {"_lastUpdated": f"gt{since.isoformat()}"} if since else {}
    try:
        mrns = Patient.objects.filter(practice=practice).exclude(mrn="").order_by("id").values_list("mrn", flat=True)
        for mrn in mrns.iterator():
            matches = client.search("Patient", {"identifier": mrn}, "patient search")
            if len(matches) != 1:
                counts[NOT_FOUND] = counts.get(NOT_FOUND, 0) + 1
                continue
            pid = matches[0]["id"]
            found = {t: client.search(t, {"patient": pid, **changed}, f"{t} search") for t in SEARCHED}
            if since and not any(found.values()):
                continue  # nothing new for this patient
            patient = client.get(f"Patient/{pid}", "patient read")
            for t, resources in (("Patient", [patient]), *found.items()):
                for resource in resources:
                    out[t].write(json.dumps(resource) + "\n")
                if resources:
                    counts[t] = counts.get(t, 0) + len(resources)
    finally:
        for f in out.values():
            f.close()
    for t, f in out.items():  # the import reads every file of the folder: none empty
        if t not in counts:
            Path(f.name).unlink()
    return counts
