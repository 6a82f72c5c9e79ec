"""The `ccmops` console script: Django's management commands plus ccmops's own (demo, …)."""

from __future__ import annotations

import os
import sys

from ccmops.errors import CcmopsError


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv if argv is None else argv)
    if argv[1:3] in (["rules", "load-fees"], ["rules", "fees"]):  # these read and write the database
        argv = [argv[0], "fees", "load" if argv[2] == "load-fees" else "list", *argv[3:]]
    elif argv[1:2] == ["rules"]:
        from ccmops.cli_rules import main as rules_main  # the rules commands run without loading Django

        sys.exit(rules_main(argv[2:]))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ccmops.config.settings")
    if argv[1:2] == ["demo"]:
        # The demo is a local, single-user run on the embedded database.
        os.environ.setdefault("CCMOPS_DEBUG", "true")
        # Demo logins work with the password alone; two-step sign-in stays available from the header.
        os.environ.setdefault("CCMOPS_MFA_REQUIRED_ROLES", "")
    try:
        # imported once DJANGO_SETTINGS_MODULE and the demo's defaults are set above
        from django.core.management import execute_from_command_line

        execute_from_command_line(argv)
    except CcmopsError as exc:
        print(f"ccmops: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
