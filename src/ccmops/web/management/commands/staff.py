"""`ccmops staff list|add|deactivate|reactivate|reset-password --org SLUG`: an organization's people from the
command line (the Staff page's operations, for onboarding scripts and for the administrator)."""

from __future__ import annotations

import getpass
import json

from django.core.management.base import BaseCommand

from ccmops.access.policy import Role
from ccmops.administration import staff
from ccmops.errors import InvalidInput, NotFound
from ccmops.organizations.models import Organization, Practitioner, User


class Command(BaseCommand):
    help = (
        "An organization's staff: list, add (a one-time password is printed), deactivate, reactivate, reset-password."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        listing = sub.add_parser("list", help="everyone who holds or held a membership at the organization")
        listing.add_argument("--json", action="store_true")
        add = sub.add_parser("add", help="add a person (or a role to one of the staff)")
        add.add_argument("--username", required=True)
        add.add_argument("--role", required=True, choices=[r.value for r in Role if r != Role.SYSTEM_ADMIN])
        add.add_argument("--first-name", default="")
        add.add_argument("--last-name", default="")
        add.add_argument("--email", default="")
        add.add_argument("--credential", default="")
        add.add_argument("--licence-state", default="", help="the state whose licence they work under, e.g. TX")
        add.add_argument("--clinical", choices=["yes", "no"], help="counts as clinical staff (default: by role)")
        add.add_argument("--hours", default="0", help="committed hours a week")
        add.add_argument("--practitioner-npi", default="", help="a billing practitioner's practitioner record")
        for name, text in (
            ("deactivate", "take a person off the staff"),
            ("reactivate", "bring a former staff member back"),
            ("reset-password", "print a new one-time password"),
        ):
            one = sub.add_parser(name, help=text)
            one.add_argument("username")
            if name != "reset-password":
                one.add_argument("--reason", required=True)
        for p in sub.choices.values():
            p.add_argument("--org", required=True, help="the organization's slug")
            p.add_argument("--by", default="", help="the lead acting (username); default: the operating-system user")

    def handle(self, *args, action: str, org: str, by: str, **options):
        organization = Organization.objects.filter(slug=org).first()
        if organization is None:
            raise NotFound(f"--org: no organization {org!r}")
        lead = None
        if by:
            lead = User.objects.filter(username=by).first()
            if lead is None:
                raise NotFound(f"--by: no user {by!r}")
            if organization not in staff.lead_organizations(lead):
                raise InvalidInput(f"--by: {by} does not lead {organization}")
        actor = "" if lead else f"cli:{getpass.getuser()}"
        if action == "list":
            return self._list(organization, options["json"])
        if action == "add":
            return self._add(organization, lead, actor, options)
        target = User.objects.filter(username=options["username"]).first()
        if target is None:
            raise NotFound(f"username: no user {options['username']!r}")
        if action == "deactivate":
            done = staff.deactivate(org=organization, user_id=target.id, reason=options["reason"], by=lead, actor=actor)
            self.stdout.write(f"{target.username}: off the staff of {organization} ({json.dumps(done)})")
        elif action == "reactivate":
            roles = staff.reactivate(
                org=organization, user_id=target.id, reason=options["reason"], by=lead, actor=actor
            )
            self.stdout.write(
                f"{target.username}: back on the staff of {organization} ({', '.join(roles) or 'account'})"
            )
        else:
            password = staff.reset_password(org=organization, user_id=target.id, by=lead, actor=actor)
            self.stdout.write(f"{target.username}: one-time password {password} (to be changed at the next sign-in)")

    def _list(self, organization: Organization, as_json: bool) -> None:
        people = staff.staff(organization)
        if as_json:
            self.stdout.write(json.dumps([p.as_dict() for p in people], indent=2))
            return
        for p in people:
            state = "active" if p.active else "former"
            roles = ", ".join(Role(m.role).label for m in p.memberships if m.active or not p.active)
            self.stdout.write(f"{p.user.username:<20} {p.user.get_full_name():<24} {state:<7} {roles}")

    def _add(self, organization: Organization, lead, actor: str, options: dict) -> None:
        practitioner_id = None
        if options["practitioner_npi"]:
            record = Practitioner.objects.filter(practice=organization, npi=options["practitioner_npi"]).first()
            if record is None:
                raise InvalidInput(
                    f"--practitioner-npi: no practitioner {options['practitioner_npi']} at {organization}"
                )
            practitioner_id = record.id
        added = staff.add_staff(
            org=organization,
            username=options["username"],
            role=options["role"],
            by=lead,
            actor=actor,
            first_name=options["first_name"],
            last_name=options["last_name"],
            email=options["email"],
            credential=options["credential"],
            licence_state=options["licence_state"],
            clinical={"yes": True, "no": False}.get(options["clinical"] or ""),
            hours=options["hours"],
            practitioner_id=practitioner_id,
        )
        role = Role(added.membership.role).label
        if added.password:
            self.stdout.write(
                f"{added.user.username}: added as {role} at {organization}; one-time password {added.password} "
                "(give it in person or by phone; it must be changed at the first sign-in)"
            )
        else:
            self.stdout.write(f"{added.user.username}: now also {role} at {organization}")
