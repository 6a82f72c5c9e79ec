from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from ccmops.jobs.follow import describe, follow
from ccmops.jobs.models import Job


class Command(BaseCommand):
    help = "Background jobs: `ccmops jobs` lists the latest; `ccmops jobs show ID [--wait]` shows (follows) one."

    def add_arguments(self, parser) -> None:
        parser.add_argument("action", nargs="?", default="list", choices=["list", "show"])
        parser.add_argument("job", nargs="?", help="job id (for show)")
        parser.add_argument("--practice", type=int, help="only this practice's jobs")
        parser.add_argument("--limit", type=int, default=20)
        parser.add_argument("--wait", action="store_true", help="follow the job with a progress bar until it ends")

    def handle(self, *args, action: str, job: str | None, practice: int | None, limit: int, wait: bool, **o):
        if action == "show":
            if not job:
                raise CommandError("jobs show: give the job's id")
            try:
                found = Job.objects.select_related("requested_by").get(pk=job)
            except (Job.DoesNotExist, ValidationError, ValueError) as exc:
                raise CommandError(f"jobs show: no job {job!r}") from exc
            if wait:
                found = follow(found.pk)
            self.stdout.write(describe(found))
            if found.status == "failed":
                raise SystemExit(1)
            return
        rows = Job.objects.select_related("requested_by").order_by("-created_at")
        if practice:
            rows = rows.filter(practice_id=practice)
        for j in rows[:limit]:
            progress = f"{j.done}/{j.total}" if j.total else ""
            when = f"{j.created_at:%Y-%m-%d %H:%M}"
            self.stdout.write(f"{j.id}  {when}  {j.get_status_display():<22} {progress:>12}  {j.label}")
