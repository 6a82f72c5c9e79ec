"""A stand-in for a practice's EHR, for tests only (issue 34): a local FHIR R4 server on 127.0.0.1 that

- publishes its SMART configuration and issues access tokens to SMART Backend Services clients, verifying the
  client's signed assertion (RS384/ES384) against the JWKS registered for the client id, its audience, expiry
  and that its jti is not replayed; it grants the scopes it allows of those asked;
- answers `metadata` with a CapabilityStatement (what it supports is settable);
- searches Patients by identifier;
- creates DocumentReferences and CarePlans, validating each with `fhir.resources` and the US Core required
  elements, with conditional create (`If-None-Exist: identifier=system|value`: an existing match answers 200);
  creates or replaces Consents and EpisodeOfCares by conditional update (`PUT Type?identifier=system|value`);
- answers searches by patient (`Type?patient=id&_lastUpdated=gt…`, paged with `next` links) and reads a Patient,
  from the same resources a Bulk export holds — for an EHR without Bulk Data;
- runs Bulk Data exports of a Group asynchronously (`$export` → 202 with a status URL → 202 with Retry-After →
  the manifest), honouring `_since` by when each resource was added, its files needing the access token;
- fails on request: the next requests answer 500, 429 with Retry-After, a 422 OperationOutcome, come slowly, or
  drop the connection — before or after creating what they carry (a lost answer) — and a download can be cut
  short.

It is not product code and implements only what ccmops's tests need."""

from __future__ import annotations

import json
import secrets
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
from fhir.resources.R4B.careplan import CarePlan
from fhir.resources.R4B.consent import Consent
from fhir.resources.R4B.documentreference import DocumentReference
from fhir.resources.R4B.episodeofcare import EpisodeOfCare

US_CORE_CATEGORY = "http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category"


class FhirServer:
    def __init__(self):
        self.jwks: dict[str, dict] = {}  # client id -> its JWKS
        self.allowed_scopes = {"system/*.read", "system/DocumentReference.write"}
        self.patients: dict[str, str] = {}  # id -> MRN
        self.documents: dict[str, dict] = {}  # id -> resource
        self.episodes: dict[str, dict] = {}  # id -> EpisodeOfCare
        self.careplans: dict[str, dict] = {}  # id -> CarePlan
        self.consents: dict[str, dict] = {}  # id -> Consent
        self.page_size = 50  # search results per page
        self.tokens: set[str] = set()
        self.seen_jti: set[str] = set()
        self.faults: list[tuple] = []  # applied to the next POST/GET of a resource, in order
        self.capability_resources = {"DocumentReference": True, "Patient": True, "CarePlan": False, "Consent": False}
        self.searchable: set[str] = set()  # resource types searchable by patient (an EHR without Bulk Data)
        self.offers_bulk = True  # the CapabilityStatement lists the Group $export operation
        self.requests: list[tuple[str, str]] = []
        self.bulk: list[tuple[float, dict]] = []  # (when added, resource): what a Group export holds
        self.exports: dict[str, dict] = {}
        self.export_polls = 1  # status requests answered 202 before the manifest
        self.cut_downloads = 0  # the next downloads stop halfway
        self.lock = threading.Lock()
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._http.server_port}/fhir"
        self._thread = threading.Thread(target=self._http.serve_forever, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._http.shutdown()
        self._http.server_close()

    # ------------------------------------------------------------------------------------------------ behaviour
    def token(self, form: dict) -> tuple[int, dict]:
        if form.get("grant_type") != "client_credentials":
            return 400, {"error": "unsupported_grant_type"}
        assertion = form.get("client_assertion", "")
        try:
            header = jwt.get_unverified_header(assertion)
            claims = jwt.decode(assertion, options={"verify_signature": False})
            keyset = jwt.PyJWKSet.from_dict(self.jwks.get(claims.get("iss"), {"keys": []}))
            key = next(k for k in keyset.keys if k.key_id == header.get("kid"))
            claims = jwt.decode(assertion, key.key, algorithms=["ES384", "RS384"], audience=f"{self.url}/token",
                                options={"require": ["exp", "iss", "sub", "jti", "aud"]})  # fmt: skip
        except (jwt.PyJWTError, StopIteration, KeyError) as exc:
            return 401, {"error": "invalid_client", "error_description": f"assertion rejected: {exc}"}
        if claims["iss"] != claims["sub"] or claims["jti"] in self.seen_jti:
            return 401, {"error": "invalid_client", "error_description": "iss/sub differ or jti replayed"}
        self.seen_jti.add(claims["jti"])
        granted = [s for s in form.get("scope", "").split() if s in self.allowed_scopes]
        token = secrets.token_urlsafe(16)
        self.tokens.add(token)
        return 200, {"access_token": token, "token_type": "bearer", "expires_in": 300, "scope": " ".join(granted)}

    def capability(self) -> dict:
        resources = []
        if self.capability_resources.get("DocumentReference"):
            resources.append({"type": "DocumentReference", "interaction": [{"code": "create"}, {"code": "read"}],
                              "conditionalCreate": True})  # fmt: skip
        if self.capability_resources.get("Patient"):
            resources.append({"type": "Patient", "interaction": [{"code": "search-type"}, {"code": "read"}],
                              "searchParam": [{"name": "identifier", "type": "token"}]})  # fmt: skip
        for kind in ("CarePlan", "Consent"):
            if self.capability_resources.get(kind):
                resources.append({"type": kind, "interaction": [{"code": "create"}, {"code": "update"}],
                                  "conditionalCreate": True, "conditionalUpdate": True})  # fmt: skip
        for kind in sorted(self.searchable):
            resources.append({"type": kind, "interaction": [{"code": "search-type"}],
                              "searchParam": [{"name": "patient", "type": "reference"}]})  # fmt: skip
        if self.offers_bulk:
            resources.append(
                {
                    "type": "Group",
                    "operation": [
                        {
                            "name": "export",
                            "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/group-export",
                        }
                    ],
                }
            )
        return {
            "resourceType": "CapabilityStatement", "status": "active", "date": "2026-12-01", "kind": "instance",
            "fhirVersion": "4.0.1", "format": ["json"], "rest": [{"mode": "server", "resource": resources}],
        }  # fmt: skip

    def create_document(self, resource: dict, if_none_exist: str) -> tuple[int, dict, str]:
        try:
            DocumentReference.model_validate(resource)
        except Exception as exc:  # noqa: BLE001 — any validation failure is the client's 422
            return 422, outcome(f"not a valid DocumentReference: {exc}"), ""
        problems = us_core_problems(resource, self.patients)
        if problems:
            return 422, outcome("; ".join(problems)), ""
        with self.lock:
            if if_none_exist:
                system, _, value = urllib.parse.unquote(if_none_exist.split("identifier=", 1)[-1]).partition("|")
                found = [
                    i for i, d in self.documents.items()
                    if any(x.get("system") == system and x.get("value") == value for x in d.get("identifier", []))
                ]  # fmt: skip
                if len(found) > 1:
                    return 412, outcome("more than one match"), ""
                if found:
                    return 200, self.documents[found[0]], found[0]
            rid = str(len(self.documents) + 1)
            self.documents[rid] = {**resource, "id": rid}
            return 201, self.documents[rid], rid

    def create_careplan(self, resource: dict, if_none_exist: str) -> tuple[int, dict, str]:
        """Conditional create of a US Core CarePlan (text, status, intent, category assess-plan, a known subject)."""
        try:
            CarePlan.model_validate(resource)
        except Exception as exc:  # noqa: BLE001 — any validation failure is the client's 422
            return 422, outcome(f"not a valid CarePlan: {exc}"), ""
        problems = [f"CarePlan.{e} is required (US Core)" for e in ("text", "status", "intent", "category", "subject")
                    if not resource.get(e)]  # fmt: skip
        codes = {c.get("code") for cat in resource.get("category", []) for c in cat.get("coding", [])}
        if "assess-plan" not in codes:
            problems.append("CarePlan.category must include assess-plan (US Core)")
        if resource.get("subject", {}).get("reference", "").removeprefix("Patient/") not in self.patients:
            problems.append("CarePlan.subject is not a patient of this server")
        if problems:
            return 422, outcome("; ".join(problems)), ""
        system, _, value = urllib.parse.unquote(if_none_exist.split("identifier=", 1)[-1]).partition("|")
        with self.lock:
            found = _matching(self.careplans, system, value)
            if found:
                return 200, self.careplans[found[0]], found[0]
            rid = str(len(self.careplans) + 1)
            self.careplans[rid] = {**resource, "id": rid}
            return 201, self.careplans[rid], rid

    def put(self, kind: str, resource: dict, query: dict) -> tuple[int, dict]:
        """Conditional update of an EpisodeOfCare or a Consent: replace the one matching the identifier, or create
        it. A Consent needs its patient known here, a scope, a category and a policy rule."""
        model, store = {"EpisodeOfCare": (EpisodeOfCare, self.episodes), "Consent": (Consent, self.consents)}[kind]
        try:
            model.model_validate(resource)
        except Exception as exc:  # noqa: BLE001 — any validation failure is the client's 422
            return 422, outcome(f"not a valid {kind}: {exc}")
        if kind == "Consent":
            problems = [f"Consent.{e} is required" for e in ("status", "scope", "category", "patient")
                        if not resource.get(e)]  # fmt: skip
            if not (resource.get("policyRule") or resource.get("policy")):
                problems.append("Consent needs a policy or a policyRule (ppc-1)")
            if resource.get("patient", {}).get("reference", "").removeprefix("Patient/") not in self.patients:
                problems.append("Consent.patient is not a patient of this server")
            if problems:
                return 422, outcome("; ".join(problems))
        system, _, value = query.get("identifier", "").partition("|")
        with self.lock:
            found = _matching(store, system, value)
            if len(found) > 1:
                return 412, outcome("more than one match")
            rid = found[0] if found else str(len(store) + 1)
            store[rid] = {**resource, "id": rid}
            return (200 if found else 201), store[rid]

    def search(self, kind: str, query: dict) -> dict:
        """Resources of `kind` (from what a Bulk export holds) referring to the patient, added after
        `_lastUpdated=gt…`, one page from `_offset`."""
        patient = f"Patient/{query.get('patient', '')}"
        since = query.get("_lastUpdated", "").removeprefix("gt")
        cutoff = _epoch(since) if since else 0.0
        refs = ("subject", "patient", "beneficiary")
        hits = [r for added, r in self.bulk if r["resourceType"] == kind and added > cutoff
                and any((r.get(f) or {}).get("reference") == patient for f in refs)]  # fmt: skip
        offset = int(query.get("_offset", "0"))
        page = hits[offset : offset + self.page_size]
        bundle = {"resourceType": "Bundle", "type": "searchset", "total": len(hits),
                  "entry": [{"resource": r} for r in page], "link": []}  # fmt: skip
        if offset + self.page_size < len(hits):
            following = urllib.parse.urlencode({**query, "_offset": offset + self.page_size})
            bundle["link"].append({"relation": "next", "url": f"{self.url}/{kind}?{following}"})
        return bundle

    def add_bulk(self, *resources: dict) -> None:
        now = time.time()
        self.bulk += [(now, r) for r in resources]

    def start_export(self, since: str) -> str:
        cutoff = _epoch(since) if since else 0.0
        by_type: dict[str, list[str]] = {}
        for added, resource in self.bulk:
            if added > cutoff:
                by_type.setdefault(resource["resourceType"], []).append(json.dumps(resource))
        export_id = str(len(self.exports) + 1)
        self.exports[export_id] = {"polls": 0, "files": by_type}
        return export_id

    # -------------------------------------------------------------------------------------------------- HTTP
    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _send(self, status: int, body: dict, headers: dict | None = None):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/fhir+json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def _fault(self, after: bool = False):
                with server.lock:
                    if not server.faults:
                        return None
                    fault = server.faults[0]
                    if (fault[0] == "drop-after") != after:
                        return None
                    server.faults.pop(0)
                return fault

            def _authorized(self) -> bool:
                token = self.headers.get("Authorization", "").removeprefix("Bearer ")
                if token not in server.tokens:
                    self._send(401, outcome("no valid access token"))
                    return False
                return True

            def _path(self) -> tuple[str, dict]:
                parsed = urllib.parse.urlparse(self.path)
                return parsed.path.removeprefix("/fhir"), dict(urllib.parse.parse_qsl(parsed.query))

            def _apply(self, fault) -> bool:
                kind = fault[0]
                if kind == "status":
                    self._send(fault[1], outcome(fault[2] if len(fault) > 2 else "server error"))
                elif kind == "429":
                    self._send(429, outcome("too many requests"), {"Retry-After": str(fault[1])})
                elif kind == "slow":
                    time.sleep(fault[1])
                    return False
                elif kind == "drop":
                    self.close_connection = True
                    self.connection.shutdown(2)
                return True

            def do_GET(self):
                path, query = self._path()
                server.requests.append(("GET", path))
                if path == "/.well-known/smart-configuration":
                    return self._send(200, {
                        "token_endpoint": f"{server.url}/token",
                        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
                        "token_endpoint_auth_signing_alg_values_supported": ["ES384", "RS384"],
                    })  # fmt: skip
                if not self._authorized():
                    return None
                if path == "/metadata":
                    return self._send(200, server.capability())
                if path.startswith("/Group/") and path.endswith("/$export"):
                    if self.headers.get("Prefer") != "respond-async":
                        return self._send(400, outcome("Prefer: respond-async is required"))
                    export_id = server.start_export(query.get("_since", ""))
                    return self._send(202, outcome("accepted"),
                                      {"Content-Location": f"{server.url}/export-status/{export_id}"})  # fmt: skip
                if path.startswith("/export-status/"):
                    export = server.exports[path.rsplit("/", 1)[1]]
                    export["polls"] += 1
                    if export["polls"] <= server.export_polls:
                        return self._send(202, {}, {"Retry-After": "0", "X-Progress": "exporting"})
                    eid = path.rsplit("/", 1)[1]
                    return self._send(200, {
                        "transactionTime": "2026-12-06T00:00:00Z", "request": f"{server.url}/Group/$export",
                        "requiresAccessToken": True, "error": [],
                        "output": [{"type": t, "url": f"{server.url}/export-files/{eid}/{t}.ndjson"}
                                   for t in export["files"]],
                    })  # fmt: skip
                if path.startswith("/export-files/"):
                    _, _, eid, name = path.split("/", 3)
                    data = ("\n".join(server.exports[eid]["files"][name.removesuffix(".ndjson")]) + "\n").encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/fhir+ndjson")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    if server.cut_downloads:
                        server.cut_downloads -= 1
                        self.wfile.write(data[: len(data) // 2])
                        self.close_connection = True
                        return None
                    self.wfile.write(data)
                    return None
                if path.startswith("/Patient/"):
                    wanted = path.split("/", 2)[2]
                    found = [r for _, r in server.bulk if r["resourceType"] == "Patient" and r.get("id") == wanted]
                    return self._send(200, found[-1]) if found else self._send(404, outcome(f"no {path}"))
                if path.lstrip("/") in server.searchable:
                    return self._send(200, server.search(path.lstrip("/"), query))
                if path == "/Patient":
                    wanted = query.get("identifier", "").rpartition("|")[2]
                    entries = [{"resource": {"resourceType": "Patient", "id": pid,
                                             "identifier": [{"value": mrn}]}} for pid, mrn in server.patients.items()
                               if mrn == wanted]  # fmt: skip
                    return self._send(200, {"resourceType": "Bundle", "type": "searchset", "total": len(entries),
                                            "entry": entries})  # fmt: skip
                return self._send(404, outcome(f"no {path}"))

            def do_PUT(self):
                path, query = self._path()
                server.requests.append(("PUT", path))
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if not self._authorized():
                    return None
                fault = self._fault()
                if fault is not None and self._apply(fault):
                    return None
                kind = path.lstrip("/")
                if kind not in ("EpisodeOfCare", "Consent") or (
                    kind == "Consent" and not server.capability_resources.get("Consent")
                ):
                    return self._send(404, outcome(f"no {path}"))  # fmt: skip
                status, answer = server.put(kind, json.loads(body), query)
                return self._send(status, answer)

            def do_POST(self):
                path, _ = self._path()
                server.requests.append(("POST", path))
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if path == "/token":
                    status, answer = server.token(dict(urllib.parse.parse_qsl(body.decode())))
                    return self._send(status, answer)
                if not self._authorized():
                    return None
                fault = self._fault()
                if fault is not None and self._apply(fault):
                    return None
                create = {"/CarePlan": server.create_careplan if server.capability_resources.get("CarePlan") else None,
                          "/DocumentReference": server.create_document}.get(path)  # fmt: skip
                if create is None:
                    return self._send(404, outcome(f"no {path}"))
                status, answer, rid = create(json.loads(body), self.headers.get("If-None-Exist", ""))
                if self._fault(after=True) is not None:  # created, but the answer is lost
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return None
                return self._send(status, answer, {"Location": f"{server.url}{path}/{rid}/_history/1"}
                                  if rid else None)  # fmt: skip

        return Handler


def _matching(store: dict, system: str, value: str) -> list[str]:
    return [i for i, r in store.items()
            if any(x.get("system") == system and x.get("value") == value for x in r.get("identifier", []))]  # fmt: skip


def _epoch(iso: str) -> float:
    import datetime as dt

    return dt.datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def outcome(text: str) -> dict:
    return {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "processing",
                                                          "diagnostics": text}]}  # fmt: skip


def us_core_problems(resource: dict, patients: dict) -> list[str]:
    """The US Core DocumentReference elements that must be there (status, type, category, subject, content with
    its attachment's contentType and data or url), and a subject this server knows."""
    problems = []
    for element in ("status", "type", "category", "subject", "content"):
        if not resource.get(element):
            problems.append(f"DocumentReference.{element} is required (US Core)")
    codes = [c.get("code") for cat in resource.get("category", []) for c in cat.get("coding", [])
             if c.get("system") == US_CORE_CATEGORY]  # fmt: skip
    if resource.get("category") and not codes:
        problems.append("DocumentReference.category must carry a US Core document category")
    for n, item in enumerate(resource.get("content", [])):
        attachment = item.get("attachment", {})
        if not attachment.get("contentType") or not (attachment.get("data") or attachment.get("url")):
            problems.append(f"DocumentReference.content[{n}].attachment needs contentType and data or url")
    reference = resource.get("subject", {}).get("reference", "")
    if reference and reference.removeprefix("Patient/") not in patients:
        problems.append(f"subject {reference} is not a patient of this server")
    return problems
