"""`ccmops month ACTION --practice SLUG --month YYYY-MM`: close, review, approve, exports, packets, remittance."""

from __future__ import annotations

import json
import shutil
import sys

from django.core.management.base import BaseCommand

from ccmops.billing.adjustments import open_impacts, resolve, resolve_unchanged
from ccmops.billing.evaluation import summarize
from ccmops.billing.exports import charges_csv, export_837p
from ccmops.billing.fhir_claims import claims_bundle
from ccmops.billing.jobs import start_approval, start_evaluation, start_lookback, start_packets
from ccmops.billing.lookback import Lookback, lookback
from ccmops.billing.models import ClaimBatch, PatientMonthDecision
from ccmops.billing.packets import packets_zip
from ccmops.billing.remittance import import_remittance, mark_rejected, mark_submitted
from ccmops.errors import CcmopsError, InvalidInput
from ccmops.jobs.follow import queued
from ccmops.jobs.service import raise_failure
from ccmops.organizations.models import User
from ccmops.organizations.services import practice_by_ref
from ccmops.platform.numerals import ascii_digits


class Command(BaseCommand):
    help = "Month close: evaluate every patient-month, list the review queue, approve and close."

    def add_arguments(self, parser):
        parser.add_argument(
            "action",
            choices=[
                "close",
                "review",
                "approve",
                "export-claims",
                "export-csv",
                "export-fhir",
                "packets",
                "remit",
                "adjustments",
                "resolve-adjustments",
                "batches",
                "mark-submitted",
                "mark-rejected",
                "lookback",
            ],
        )
        parser.add_argument(
            "--control-number", type=int, help="mark-submitted, mark-rejected: the 837P batch (ISA13 / GS06)"
        )
        parser.add_argument("--reason", default="", help="mark-rejected: the front end's rejection text")
        parser.add_argument("--test-file", action="store_true", help="export-claims: a test file (ISA15 = T)")
        parser.add_argument("--json", action="store_true", help="adjustments: print the queue as JSON")
        parser.add_argument(
            "--ids", default="", help="resolve-adjustments: the queued entries' ids, comma-separated (one patient)"
        )
        parser.add_argument(
            "--outcome", choices=["no_change", "corrected", "not_billed"], help="resolve-adjustments: how"
        )
        parser.add_argument("--note", default="", help="resolve-adjustments: the note (required for not_billed)")
        parser.add_argument(
            "--unchanged",
            action="store_true",
            help="resolve-adjustments: every queued patient-month without code changes, as no_change (no --ids)",
        )
        parser.add_argument(
            "--reference", default="", help="resolve-adjustments: the contractor's reference (required for corrected)"
        )
        parser.add_argument("--file", help="remittance CSV (remit): claim_id, code, status, paid_amount, note")
        parser.add_argument(
            "--out", help="file to write (export-claims, export-csv, export-fhir); default standard output"
        )
        parser.add_argument("--practice", required=True)
        parser.add_argument("--month", default=None, help="YYYY-MM (every action but lookback)")
        parser.add_argument("--from", dest="start", default=None, help="lookback: the first closed month, YYYY-MM")
        parser.add_argument("--to", dest="end", default=None, help="lookback: the last closed month, YYYY-MM")
        parser.add_argument("--user", help="username recorded as having done it")
        parser.add_argument(
            "--workers", type=int, default=1, help="close: processes deciding patients in parallel (PostgreSQL)"
        )
        parser.add_argument(
            "--queue",
            action="store_true",
            help="close, approve, packets, lookback: hand the work to the background workers (`ccmops worker`)",
        )
        parser.add_argument("--wait", action="store_true", help="with --queue: follow the job with a progress bar")

    def _job(self, job, options):
        """Run here (the default) or queued; a queued job without --wait prints its id and returns None."""
        if options.get("queue"):
            job = queued(job, wait=options.get("wait", False), out=self.stdout)
            if job is None:
                return None
        raise_failure(job)
        return job

    def _lookback(self, org, start, end, by, as_json: bool, options: dict) -> None:
        if not start or not end:
            raise InvalidInput("lookback: --from and --to (YYYY-MM) are required")
        if options.get("queue"):  # decided again by a worker; with --wait printed here when done
            job = self._job(
                start_lookback(practice=org, start=start, end=end, by=by, return_url="", run_here=False), options
            )
            if job is None:
                return None
            found = Lookback.from_dict(job.result)
        else:
            found = lookback(practice=org, start=start, end=end, by=by)
        if as_json:
            self.stdout.write(json.dumps([d.as_dict() for d in found.differences], indent=1))
            return
        for d in found.differences:
            billed = " ".join(f"{c}×{u}" for c, u in d.billed) or "nothing"
            now = " ".join(f"{c}×{u}" for c, u in d.now) or "nothing"
            self.stdout.write(
                f"{d.month} {d.patient} (MRN {d.mrn}): billed {billed} ${d.billed_amount}; now {now} ${d.now_amount} "
                f"({d.status_now}) — {', '.join(d.rules) or 'amounts'}"
            )
        skipped = f"; skipped (no rule set): {', '.join(found.skipped)}" if found.skipped else ""
        self.stdout.write(
            f"{org.name} {start}..{end}: {len(found.months)} closed months, {found.patient_months} patient-months, "
            f"{len(found.differences)} would differ today (net ${found.total_difference}){skipped}"
        )

    def handle(self, *args, action, practice, month, user, out=None, file=None, workers=1, **options):
        org = practice_by_ref(practice)
        by = User.objects.filter(username=user).first() if user else None
        if action == "lookback":
            return self._lookback(org, options["start"], options["end"], by, options["json"], options)
        if not month:
            raise InvalidInput("--month: required (YYYY-MM)")
        try:
            if action == "close":
                if workers < 1:
                    raise InvalidInput(f"--workers: expected 1 or more, got {workers}")
                job = start_evaluation(
                    practice=org, month=month, by=by, workers=workers, run_here=not options.get("queue")
                )
                if self._job(job, options) is None:
                    return
                s = summarize(org, month)
                self.stdout.write(
                    f"{org.name} {month}: {s.patient_months} patient-months — {s.ready} ready, "
                    f"{s.needs_review} need review, {s.nothing_billable} nothing billable; "
                    f"{s.lines} lines, ${s.allowed:,.2f} allowed"
                )
            elif action == "review":
                queue = PatientMonthDecision.objects.filter(practice=org, month=month, review="needs_review")
                for d in queue.select_related("patient"):
                    self.stdout.write(f"{d.patient} (id {d.patient_id}):")
                    for f in d.reasons:
                        self.stdout.write(f"  [{f['severity']}] {f['code']}: {f['message']} ({', '.join(f['rules'])})")
                self.stdout.write(
                    f"{queue.count()} patient-months need review" if queue.exists() else "review queue is empty"
                )
            elif action == "adjustments":
                impacts = open_impacts(org, month)
                if options.get("json"):
                    self.stdout.write(json.dumps([i.as_dict() for i in impacts], indent=1, default=str))
                    return
                for i in impacts:
                    ids = ",".join(str(a.id) for a in i.adjustments)
                    billed = " ".join(f"{b.code}x{b.units}" for b in i.billed) or "nothing"
                    now = " ".join(f"{b.code}x{b.units}" for b in i.now) or "nothing"
                    self.stdout.write(
                        f"{i.patient} (MRN {i.patient.mrn}) ids {ids}: {i.minutes:+d} min ("
                        + "; ".join(a.description for a in i.adjustments)
                        + f"); billed {billed} ({i.billed_as_of}); now {now} ({i.now_status}); "
                        f"difference ${i.difference:,.2f}"
                    )
                self.stdout.write(
                    f"{len(impacts)} patient-months with queued late work" if impacts else "adjustment queue is empty"
                )
            elif action == "resolve-adjustments" and options.get("unchanged"):
                done = resolve_unchanged(practice=org, month=month, by=by, note=options.get("note", ""))
                self.stdout.write(f"{len(done)} patient-month(s) without code changes resolved as no_change")
            elif action == "resolve-adjustments":
                raw = [x.strip() for x in options.get("ids", "").split(",") if x.strip()]
                if not raw or not all(ascii_digits(x) for x in raw):
                    raise InvalidInput(f"--ids: expected comma-separated adjustment ids, got {options.get('ids')!r}")
                if not options.get("outcome"):
                    raise InvalidInput("--outcome: expected no_change, corrected or not_billed")
                impact = resolve(
                    practice=org,
                    month=month,
                    adjustment_ids=[int(x) for x in raw],
                    outcome=options["outcome"],
                    note=options.get("note", ""),
                    reference=options.get("reference", ""),
                    by=by,
                )
                self.stdout.write(
                    f"{impact.patient} {month}: {len(impact.adjustments)} adjustment(s) resolved as "
                    f"{options['outcome']} (difference ${impact.difference:,.2f})"
                )
            elif action == "batches":
                for b in ClaimBatch.objects.filter(practice=org, month=month).order_by("control_number"):
                    when = b.rejected_at or b.submitted_at or b.created_at
                    self.stdout.write(
                        f"837P #{b.control_number}: {b.claims} claims, {b.lines} lines, ${b.total:,.2f} — {b.state} "
                        f"{when:%Y-%m-%d %H:%M}{f' ({b.rejection_reason})' if b.rejection_reason else ''}"
                    )
            elif action in ("mark-submitted", "mark-rejected"):
                number = options.get("control_number")
                batch = ClaimBatch.objects.filter(practice=org, month=month, control_number=number).first()
                if batch is None:
                    raise InvalidInput(f"--control-number: no 837P #{number} for {org.name} in {month}")
                if action == "mark-submitted":
                    batch = mark_submitted(batch=batch, by=by)
                else:
                    batch = mark_rejected(batch=batch, reason=options.get("reason", ""), by=by)
                self.stdout.write(f"837P #{batch.control_number} {month}: {batch.state}")
            elif action == "remit":
                if not file:
                    raise InvalidInput("--file: give the remittance CSV")
                with open(file, encoding="utf-8") as fh:
                    n = import_remittance(practice=org, text=fh.read(), file_label=file, by=by)
                self.stdout.write(f"{n} claim lines updated from {file}")
            elif action == "packets":
                target = out or f"{org.slug}-{month}-audit-packets.zip"
                if options.get("queue"):  # built by a worker; with --wait copied here when done
                    job = self._job(start_packets(practice=org, month=month, by=by, run_here=False), options)
                    if job is None:
                        return
                    shutil.copyfile(job.file_path, target)
                else:
                    with open(target, "wb") as fh:
                        fh.write(packets_zip(org, month, by=by))
                self.stdout.write(f"audit packets -> {target}")
            elif action in ("export-claims", "export-csv", "export-fhir"):
                if action == "export-claims":
                    batch = export_837p(practice=org, month=month, by=by, test=options["test_file"])
                    text = batch.content
                    note = (
                        f"837P #{batch.control_number}{' (test file)' if batch.test else ''}: {batch.claims} claims, "
                        f"{batch.lines} lines, ${batch.total:,.2f} charged; accepted by pyx12"
                    )
                    for held in batch.held_out:
                        note += f"\nheld out: {held['patient']}: {'; '.join(held['reasons'])}"
                elif action == "export-fhir":
                    bundle = claims_bundle(practice=org, month=month, by=by)
                    text = json.dumps(bundle, indent=1)
                    claims = sum(e["resource"]["resourceType"] == "Claim" for e in bundle["entry"])
                    note = f"FHIR R4 Bundle: {claims} Claim resources; valid R4 (fhir.resources)"
                else:
                    text, note = charges_csv(practice=org, month=month, by=by), "charge CSV written"
                if out:
                    with open(out, "w", encoding="utf-8") as fh:
                        fh.write(text)
                    self.stdout.write(f"{note} -> {out}")
                else:
                    self.stdout.write(text)
            else:
                job = start_approval(practice=org, month=month, by=by, run_here=not options.get("queue"))
                if self._job(job, options) is None:
                    return
                s = summarize(org, month)
                self.stdout.write(f"{org.name} {month} closed by {by or 'CLI'}: {s.lines} lines, ${s.allowed:,.2f}")
        except CcmopsError as exc:
            self.stderr.write(str(exc))
            sys.exit(exc.exit_code if exc.exit_code != 1 else 2)
