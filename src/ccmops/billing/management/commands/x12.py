"""`ccmops x12 import FILE... --practice SLUG [--user NAME]`: read what the payer or clearinghouse sent back — 999
and 277CA acknowledgments, 835 remittances (`ccmops.billing.payer_files`). Each file is read once: one already
read (same sender and interchange control number) says so and changes nothing. A file that cannot be read is
refused whole, with the segment named, and the command exits non-zero after trying the others.

`ccmops x12 sweep --practice SLUG` reads what waits in the practice's payer inbox now
(`ccmops.billing.payer_inbox`; the hourly job does it too).

`ccmops x12 eligibility --practice SLUG --month YYYY-MM [--out FILE]` writes the month's 270 eligibility inquiry
(`ccmops.billing.eligibility`); the 271 that answers it is read with `import` or the inbox like the others."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ccmops.billing.eligibility import write_inquiry
from ccmops.billing.payer_files import import_x12, said
from ccmops.billing.payer_inbox import inbox_folder, sweep
from ccmops.errors import CcmopsError
from ccmops.months.month import checked
from ccmops.organizations.models import User
from ccmops.organizations.services import practice_by_ref


class Command(BaseCommand):
    help = "Read 999, 277CA, 835 and 271 files from the payer or clearinghouse; write a month's 270."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        read = sub.add_parser("import", help="read one or more X12 files")
        read.add_argument("files", nargs="+")
        read.add_argument("--practice", required=True, help="the practice's slug or id")
        read.add_argument("--user", help="username recorded as having read them")
        inbox = sub.add_parser("sweep", help="read the files waiting in the practice's payer inbox")
        inbox.add_argument("--practice", required=True, help="the practice's slug or id")
        inbox.add_argument("--user", help="username recorded as having read them")
        ask = sub.add_parser("eligibility", help="write the month's 270 eligibility inquiry")
        ask.add_argument("--practice", required=True, help="the practice's slug or id")
        ask.add_argument("--month", required=True, help="YYYY-MM")
        ask.add_argument("--out", help="file to write (default: <practice>-<month>-270-<number>.x12 here)")
        ask.add_argument("--user", help="username recorded as having written it")

    def handle(self, *args, action, practice, files=(), user=None, **options):
        org = practice_by_ref(practice)
        by = User.objects.filter(username=user).first() if user else None
        if action == "eligibility":
            try:
                inquiry = write_inquiry(practice=org, month=checked(options["month"]), by=by)
            except CcmopsError as exc:
                raise CommandError(str(exc)) from None
            out = Path(options["out"] or f"{org.slug}-{inquiry.month}-270-{inquiry.control_number}.x12")
            out.write_text(inquiry.content, encoding="ascii")
            number, n = inquiry.control_number, inquiry.patients
            self.stdout.write(f"{out}: 270 #{number} for {n} patient(s) of {inquiry.month}")
            return
        if action == "sweep":
            folder = inbox_folder(org)
            result = sweep(org, by=by)
            for row in result["read"] + result["already"]:
                self.stdout.write(f"{row['file']}: {row['said']}")
            for row in result["failed"]:
                self.stderr.write(f"{row['file']}: moved to failed/: {row['reason']}")
            self.stdout.write(
                f"{folder}: {len(result['read'])} read, {len(result['already'])} read before, "
                f"{len(result['failed'])} failed"
            )
            if result["failed"]:
                raise CommandError(f"{len(result['failed'])} file(s) refused; see {folder / 'failed'}")
            return
        failed = 0
        for name in files:
            path = Path(name)
            try:
                text = path.read_text(encoding="ascii")
            except (OSError, UnicodeDecodeError) as exc:
                self.stderr.write(f"{name}: cannot be read as an X12 text file: {exc}")
                failed += 1
                continue
            try:
                file, read = import_x12(practice=org, text=text, name=path.name, by=by)
            except CcmopsError as exc:
                self.stderr.write(str(exc))
                failed += 1
                continue
            if read:
                self.stdout.write(f"{path.name}: {said(file)}")
            else:
                self.stdout.write(
                    f"{path.name}: already read on {file.received_at:%Y-%m-%d %H:%M} as {file.name} "
                    f"(sender {file.sender}, control number {file.control_number}); nothing changed"
                )
        if failed:
            raise CommandError(f"{failed} of {len(files)} file(s) refused; nothing of them was read")
