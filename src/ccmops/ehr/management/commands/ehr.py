"""`ccmops ehr show|set|keygen|test|deliver|sync --practice SLUG`: the practice's EHR connection from the command
line (docs/ehr.md) — the same checks and audit as Settings → EHR connection."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from ccmops.ehr.deliver import deliver
from ccmops.ehr.keys import jwks
from ccmops.ehr.services import connection_of, new_key, save_connection, test_connection
from ccmops.ehr.sync import sync_in
from ccmops.errors import CcmopsError
from ccmops.organizations.models import User
from ccmops.organizations.services import practice_by_ref
from ccmops.outbox.models import EhrConnection, Outgoing


class Command(BaseCommand):
    help = "The practice's EHR connection: show, set, keygen, test, deliver, sync."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["show", "set", "keygen", "jwks", "test", "deliver", "sync"])
        parser.add_argument("--practice", required=True, help="the practice's slug or id")
        parser.add_argument("--user", help="username recorded as having done it")
        for name in ("base-url", "client-id", "token-url", "scopes", "group-id", "algorithm", "note-type"):
            parser.add_argument(f"--{name}", help="set: the connection's value")
        parser.add_argument("--write-back", choices=["on", "off"], help="set: send notes, plans, consents, summaries")
        parser.add_argument("--pdf", choices=["on", "off"], help="set: attach a PDF besides the text")
        parser.add_argument("--sends", help="set: the kinds the EHR takes, e.g. note,care_plan,consent,revocation")
        parser.add_argument("--structured", help="set: kinds also sent as their own resource: care_plan,consent or ''")
        parser.add_argument("--sync-mode", choices=["bulk", "search"], help="set: Bulk Data export or search")

    def handle(self, *args, action, practice, user=None, **o):
        org = practice_by_ref(practice)
        by = User.objects.filter(username=user).first() if user else None
        try:
            if action == "set":
                current = EhrConnection.objects.filter(practice=org).first()
                values = {f: getattr(current, f) for f in ("base_url", "client_id", "token_url", "scopes", "group_id",
                          "algorithm", "note_type", "write_back", "send_pdf")} if current else {}  # fmt: skip
                for name in ("base_url", "client_id", "token_url", "scopes", "group_id", "algorithm", "note_type"):
                    if o.get(name) is not None:
                        values[name] = o[name]
                if o.get("write_back"):
                    values["write_back"] = o["write_back"] == "on"
                if o.get("pdf"):
                    values["send_pdf"] = o["pdf"] == "on"
                if o.get("sends") is not None:
                    values["sends"] = [k.strip() for k in o["sends"].split(",") if k.strip()]
                if o.get("structured") is not None:
                    values["structured"] = [k.strip() for k in o["structured"].split(",") if k.strip()]
                if o.get("sync_mode"):
                    values["sync_mode"] = o["sync_mode"]
                save_connection(practice=org, by=by, values=values)
                action = "show"
            if action == "keygen":
                c = new_key(practice=org, by=by)
                self.stdout.write(f"New {c.algorithm} key pair, key id {c.key_id}: register the JWKS "
                                  f"(`ccmops ehr jwks`, or /ehr/{org.id}/jwks.json) with the EHR")  # fmt: skip
            elif action == "jwks":
                self.stdout.write(json.dumps(jwks(connection_of(org).public_jwk), indent=2))
            elif action == "test":
                result = test_connection(practice=org, by=by)
                for ok, text in result["lines"]:
                    self.stdout.write(f"{'ok  ' if ok else 'FAIL'} {text}")
                if not result["ok"]:
                    raise CommandError("the connection test found problems")
            elif action == "deliver":
                counts = deliver(org.id)
                self.stdout.write(", ".join(f"{n} {k}" for k, n in counts.items()))
            elif action == "sync":
                run = sync_in(org, by=by)
                files = ", ".join(f"{k} {n}" for k, n in run.files.items()) or "nothing new"
                self.stdout.write(
                    f"sync {run.get_status_display().lower()}: {files}" + (f" — {run.error}" if run.error else "")
                )
                if run.status != "succeeded":
                    raise CommandError("the sync failed; nothing was imported")
            elif action == "show":
                c = connection_of(org)
                counts = {k: Outgoing.objects.filter(practice=org, status=k).count() for k, _ in Outgoing.STATUSES}
                self.stdout.write(
                    f"{org.name}: {c.base_url} as {c.client_id} ({c.algorithm}, key {c.key_id or 'none yet'}); "
                    f"scopes {c.scopes}; group {c.group_id or '—'}; write-back {'on' if c.write_back else 'off'} "
                    f"({', '.join(c.sends) or 'nothing'}"
                    f"{'; as resources: ' + ', '.join(c.structured) if c.structured else ''}); "
                    f"sync by {'search' if c.sync_mode == 'search' else 'Bulk Data export'}; "
                    f"outbox: {counts['queued']} waiting, {counts['sent']} delivered, {counts['parked']} need a person"
                )
        except CcmopsError as exc:
            raise CommandError(str(exc)) from None
