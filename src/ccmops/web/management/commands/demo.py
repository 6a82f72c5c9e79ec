"""`ccmops demo`: migrate the embedded database, seed the demo world, print logins and serve."""

from __future__ import annotations

import subprocess
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from ccmops.access.policy import Role
from ccmops.demo import world
from ccmops.demo.seed import seed_demo
from ccmops.enrollment.screening import screen_practice
from ccmops.organizations.mfa_enrollment import issue_enrollment_code
from ccmops.organizations.models import Organization, User
from ccmops.platform.forked import die_with_parent


class Command(BaseCommand):
    help = "Create/migrate the database, seed the demo practices, print the demo logins and serve the app."

    def add_arguments(self, parser):
        parser.add_argument("--no-serve", action="store_true", help="seed and print logins, do not serve")
        parser.add_argument("--addr", default="127.0.0.1")
        parser.add_argument("--port", default="8000")
        parser.add_argument(
            "--no-worker", action="store_true", help="do not start a background worker beside the server"
        )

    def handle(self, *args, no_serve: bool, addr: str, port: str, no_worker: bool = False, **options):
        settings.CCMOPS_DATA_DIR.mkdir(parents=True, exist_ok=True)
        call_command("migrate", verbosity=0, interactive=False)
        self.stdout.write("Seeding the demo world and six months of program history (first run: about a minute)…")
        seed_demo(with_activity=True, with_history=True)
        for spec in (*world.ORGANIZATIONS, *world.HISTORY_ORGANIZATIONS):
            if spec.kind.value == "practice":
                screen_practice(practice=Organization.objects.get(slug=spec.slug))
        orgs = {o.slug: o.name for o in (*world.ORGANIZATIONS, *world.HISTORY_ORGANIZATIONS)}
        self.stdout.write(
            self.style.SUCCESS("\nccmops demo is ready. Demo logins (password for all: %s):\n") % world.DEMO_PASSWORD
        )
        self.stdout.write(f"  {'username':<18} {'role':<26} organization")
        for s in (*world.STAFF, *world.HISTORY_STAFF):
            self.stdout.write(f"  {s.username:<18} {s.role.label:<26} {orgs[s.org]}")
        self.stdout.write(f"  {world.ADMIN_USERNAME:<18} {Role.SYSTEM_ADMIN.label:<26} (configuration, /admin/)")
        required = ", ".join(sorted(settings.CCMOPS_MFA_REQUIRED_ROLES)) or "no other role"
        self.stdout.write(
            f"\nTwo-step sign-in (TOTP) is required for system administrators always, and for: {required} "
            "(CCMOPS_MFA_REQUIRED_ROLES; the demo default is none). Anyone may turn it on from the page header."
        )
        admin = User.objects.filter(username=world.ADMIN_USERNAME).first()
        if admin is not None and admin.totp_enabled_at is None:
            code = issue_enrollment_code(user=admin, actor="cli:demo")
            self.stdout.write(
                f"{world.ADMIN_USERNAME} sets up an authenticator app at the first sign-in with the enrollment code "
                f"{code} (works once, for 72 hours; `ccmops mfa enrollment-code {world.ADMIN_USERNAME}` gives a new "
                "one)."
            )
        db = settings.DATABASES["default"]
        self.stdout.write(f"\nDatabase: {db['ENGINE'].rsplit('.', 1)[-1]} {db['NAME']}")
        if no_serve:
            return
        worker = None
        if not no_worker:  # imports, screening, month evaluation and exports run as jobs: one worker beside the server
            worker = subprocess.Popen(
                [sys.executable, "-c", "from ccmops.cli import main; main(['ccmops', 'worker'])"],
                preexec_fn=die_with_parent,  # the worker ends with the demo, even on SIGKILL
            )
            self.stdout.write(f"Background worker started (process {worker.pid}).")
        self.stdout.write(f"Serving on http://{addr}:{port}/  (Ctrl-C to stop)\n")
        try:
            call_command("runserver", f"{addr}:{port}", use_reloader=False)
        finally:
            if worker is not None:
                worker.terminate()
