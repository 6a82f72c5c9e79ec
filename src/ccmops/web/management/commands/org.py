"""`ccmops org create|show|set|set-policy|set-charges|practitioner-add|practitioner-change|engage|end-engagement`:
set up a practice or partner and keep its settings, rule policies, charges, practitioners and engagements from the
command line
(the Settings and operating-model pages' operations, for a new installation and onboarding scripts)."""

from __future__ import annotations

import getpass
import json

from django.core.management.base import BaseCommand

from ccmops.administration import org_settings, practitioners
from ccmops.administration.staff import lead_organizations
from ccmops.errors import InvalidInput, NotFound
from ccmops.organizations import charges, engagements, rule_policies
from ccmops.organizations.models import Organization, Practitioner, User


def _pair(item: str) -> tuple[str, str]:
    name, sep, value = item.partition("=")
    if not sep:
        raise InvalidInput(f"{item!r}: expected NAME=VALUE, e.g. npi=1234567893")
    return name.strip(), value


class Command(BaseCommand):
    help = "Create a practice or partner with its first lead; show or change its settings and practitioners."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="a new practice or partner and its first lead (one-time password)")
        create.add_argument("--kind", required=True, choices=["practice", "partner"])
        create.add_argument("--slug", required=True, help="short name in URLs and commands, e.g. oak-family")
        create.add_argument("--name", required=True)
        create.add_argument("--time-zone", required=True, help="IANA name, e.g. America/Chicago")
        create.add_argument("--lead-username", required=True)
        create.add_argument("--lead-first-name", required=True)
        create.add_argument("--lead-last-name", required=True)
        create.add_argument("--lead-email", default="")
        show = sub.add_parser("show", help="the settings and practitioners")
        show.add_argument("--json", action="store_true")
        change = sub.add_parser("set", help="change settings: FIELD=VALUE …")
        change.add_argument("changes", nargs="+", metavar="FIELD=VALUE")
        add = sub.add_parser("practitioner-add", help="register a practitioner of the practice")
        fix = sub.add_parser("practitioner-change", help="correct a practitioner, or take them off (--inactive)")
        fix.add_argument("npi", help="the practitioner's NPI as registered")
        fix.add_argument("--reason", required=True)
        fix.add_argument("--new-npi", dest="new_npi")
        state = fix.add_mutually_exclusive_group()
        state.add_argument("--inactive", action="store_const", const=False, dest="active")
        state.add_argument("--active", action="store_const", const=True, dest="active")
        policy = sub.add_parser("set-policy", help="set rule policies: NAME=VALUE … (docs/rules-engine.md)")
        policy.add_argument("values", nargs="+", metavar="NAME=VALUE")
        policy.add_argument("--reason", required=True)
        charge = sub.add_parser("set-charges", help="set the practice's charges: CODE=AMOUNT … (CODE= removes one)")
        charge.add_argument("values", nargs="+", metavar="CODE=AMOUNT")
        engage = sub.add_parser("engage", help="the practice engages a partner from a date")
        engage.add_argument("--partner", required=True, help="the partner's slug")
        engage.add_argument("--starts-on", required=True, help="YYYY-MM-DD, the partner's first day")
        engage.add_argument("--ends-on", default=None, help="YYYY-MM-DD, its last day (default: open-ended)")
        engage.add_argument("--note", default="")
        finish = sub.add_parser("end-engagement", help="end an engagement (either side), today or later")
        finish.add_argument("engagement_id", type=int)
        finish.add_argument("--ends-on", required=True, help="YYYY-MM-DD, the partner's last day")
        finish.add_argument("--reason", required=True)
        for p, required in ((add, True), (fix, False)):
            p.add_argument("--first-name", required=required)
            p.add_argument("--last-name", required=required)
            p.add_argument("--credential", required=required, help="MD, DO, NP, PA, CNS or CNM")
        add.add_argument("--npi", required=True)
        for name, p in sub.choices.items():
            if name != "create":
                p.add_argument("--org", required=True, help="the organization's slug")
                p.add_argument("--by", default="", help="the lead acting (username); default: the OS user")

    def handle(self, *args, action: str, **options):
        actor = f"cli:{getpass.getuser()}"
        if action == "create":
            return self._create(actor, options)
        organization = Organization.objects.filter(slug=options["org"]).first()
        if organization is None:
            raise NotFound(f"--org: no organization {options['org']!r}")
        lead = None
        if options["by"]:
            lead = User.objects.filter(username=options["by"]).first()
            if lead is None:
                raise NotFound(f"--by: no user {options['by']!r}")
            if organization not in lead_organizations(lead):
                raise InvalidInput(f"--by: {options['by']} does not lead {organization}")
            actor = ""
        if action == "show":
            return self._show(organization, options["json"])
        if action == "set":
            changes = dict(_pair(item) for item in options["changes"])
            changed = org_settings.change_settings(org=organization, changes=changes, by=lead, actor=actor)
            return self._changes(changed)
        if action == "set-policy":
            values = dict(_pair(item) for item in options["values"])
            changed = rule_policies.change_policies(
                org=organization, values=values, reason=options["reason"], by=lead, actor=actor
            )
            return self._changes(changed)
        if action == "set-charges":
            values = dict(_pair(item) for item in options["values"])
            return self._changes(charges.set_charges(org=organization, values=values, by=lead, actor=actor))
        if action == "engage":
            e = engagements.engage_partner(
                practice=organization,
                partner_slug=options["partner"],
                starts_on=options["starts_on"],
                ends_on=options["ends_on"],
                note=options["note"],
                by=lead,
                actor=actor,
            )
            self.stdout.write(f"engagement {e.id}: {e.partner} for {e.practice} from {e.starts_on}")
            return None
        if action == "end-engagement":
            e = engagements.end_engagement(
                org=organization,
                engagement_id=options["engagement_id"],
                ends_on=options["ends_on"],
                reason=options["reason"],
                by=lead,
                actor=actor,
            )
            self.stdout.write(f"engagement {e.id}: {e.partner} for {e.practice} ends on {e.ends_on}")
            return None
        if action == "practitioner-add":
            p = practitioners.add_practitioner(
                org=organization,
                by=lead,
                actor=actor,
                first_name=options["first_name"],
                last_name=options["last_name"],
                npi=options["npi"],
                credential=options["credential"],
            )
            self.stdout.write(f"{p} (NPI {p.npi}) registered at {organization}")
            return None
        record = Practitioner.objects.filter(practice=organization, npi=options["npi"]).first()
        if record is None:
            raise NotFound(f"npi: no practitioner {options['npi']} at {organization}")
        fields = {
            k: v
            for k, v in (
                ("first_name", options["first_name"]),
                ("last_name", options["last_name"]),
                ("credential", options["credential"]),
                ("npi", options["new_npi"]),
                ("active", options["active"]),
            )
            if v is not None
        }
        changed = practitioners.change_practitioner(
            org=organization, practitioner_id=record.id, by=lead, actor=actor, reason=options["reason"], **fields
        )
        return self._changes(changed)

    def _changes(self, changed: dict[str, list]) -> None:
        for name, (before, after) in changed.items():
            self.stdout.write(f"{name}: {before!r} → {after!r}")
        if not changed:
            self.stdout.write("nothing changed")

    def _create(self, actor: str, options: dict) -> None:
        created = org_settings.create_organization(
            kind=options["kind"],
            slug=options["slug"],
            name=options["name"],
            time_zone=options["time_zone"],
            lead_username=options["lead_username"],
            lead_first_name=options["lead_first_name"],
            lead_last_name=options["lead_last_name"],
            lead_email=options["lead_email"],
            actor=actor,
        )
        org, lead = created.org, created.lead
        self.stdout.write(
            f"{org.name} ({org.kind}, slug {org.slug}) created.\n"
            f"{lead.user.username}: {lead.membership.get_role_display()}; one-time password {lead.password} "
            "(give it in person or by phone; it must be changed at the first sign-in).\n"
            + (
                "They sign in and complete Settings (claim identity, practitioners) and Staff."
                if org.is_practice
                else f"They sign in and complete Settings and Staff; practices engage it by its slug, {org.slug}."
            )
        )

    def _show(self, organization: Organization, as_json: bool) -> None:
        shown = org_settings.current(organization)
        registered = [practitioners.practitioner_dict(p) for p in practitioners.practitioners(organization)]
        fixed = org_settings.time_zone_fixed(organization)
        rows = [engagements.engagement_dict(e) for e in engagements.engagements_of(organization)]
        if as_json:
            out = {
                "settings": shown,
                "time_zone_fixed": fixed or None,
                "practitioners": registered,
                "engagements": rows,
                "rule_policies": rule_policies.policies(organization) if organization.is_practice else [],
            }
            self.stdout.write(json.dumps(out, indent=2))
            return
        for s in org_settings.settings_for(organization):
            value = shown[s.name]
            note = f"   (fixed: {fixed})" if s.name == "time_zone" and fixed else ""
            self.stdout.write(f"{s.name:<28} {value if value != '' else '—'}{note}")
        for p in registered:
            state = "" if p["active"] else "  (no longer practising here)"
            self.stdout.write(f"practitioner {p['npi']}  {p['first_name']} {p['last_name']}, {p['credential']}{state}")
        for p in rule_policies.policies(organization) if organization.is_practice else []:
            if p["overridden"]:
                self.stdout.write(f"policy {p['name']} = {p['value']!r}  (default {p['default']!r})")
        for e in rows:
            other = e["partner"] if organization.is_practice else e["practice"]
            until = e["ends_on"] or "open-ended"
            self.stdout.write(f"engagement {e['id']}  {other['name']}  {e['starts_on']} to {until}  ({e['state']})")
