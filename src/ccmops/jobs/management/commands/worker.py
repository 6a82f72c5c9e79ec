from django.core.management.base import BaseCommand

from ccmops.jobs.worker import Worker


class Command(BaseCommand):
    help = "Run a background worker: takes queued jobs and runs them (run as many as you like, on any machine)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--queues", default="default", help="comma-separated queues to take jobs from")
        parser.add_argument("--interval", type=float, default=1.0, help="seconds between looks when idle")
        parser.add_argument(
            "--batch", action="store_true", help="stop once no job waits or runs anywhere (scripts, benchmarks)"
        )
        parser.add_argument(
            "--no-schedules", action="store_true", help="do not start scheduled work (another worker ticks them)"
        )

    def handle(self, *args, queues: str, interval: float, batch: bool, no_schedules: bool = False, **options) -> None:
        worker = Worker(
            queues=[q for q in queues.split(",") if q],
            interval=interval,
            batch=batch,
            schedules=False if no_schedules else None,
        )
        self.stdout.write(f"worker {worker.id}: taking jobs from {queues} (Ctrl-C to stop)")
        ran = worker.run()
        self.stdout.write(f"worker {worker.id}: ran {ran} job(s)")
