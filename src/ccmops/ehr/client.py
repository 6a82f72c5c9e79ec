"""Talking to the practice's EHR over FHIR R4 (issue 34), with `requests`: SMART Backend Services authorization —
a client assertion signed with ccmops's private key (PyJWT), exchanged at the EHR's token endpoint for an access
token — then FHIR requests with it. Timeouts on every request; errors come back as `EhrError` saying whether
trying again later may help (5xx, 429, a timeout, a dropped connection) or a person must act (4xx)."""

from __future__ import annotations

import time
import uuid

import jwt
import requests

from ccmops.outbox.models import EhrConnection
from ccmops.outbox.secrets import unseal

TIMEOUT = (10, 30)  # connect, read (seconds)
FHIR_JSON = "application/fhir+json"


class EhrError(Exception):
    def __init__(self, message: str, *, transient: bool, retry_after: int | None = None, status: int | None = None):
        super().__init__(message)
        self.transient, self.retry_after, self.status = transient, retry_after, status


def _outcome_text(response) -> str:
    """The server's words: an OperationOutcome's diagnostics or details, else the start of its body."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:300]
    if isinstance(body, dict) and body.get("resourceType") == "OperationOutcome":
        return "; ".join(
            i.get("diagnostics") or (i.get("details") or {}).get("text") or i.get("code", "")
            for i in body.get("issue", [])
        )[:800]
    if isinstance(body, dict) and "error" in body:
        return f"{body.get('error')}: {body.get('error_description', '')}".strip(": ")
    return str(body)[:300]


def _raise_for(response, what: str) -> None:
    if response.status_code < 400:
        return
    retry_after = response.headers.get("Retry-After")
    transient = response.status_code == 429 or response.status_code >= 500
    raise EhrError(
        f"{what}: HTTP {response.status_code}: {_outcome_text(response)}",
        transient=transient,
        retry_after=int(retry_after) if retry_after and retry_after.isdigit() else None,
        status=response.status_code,
    )


class EhrClient:
    def __init__(self, connection: EhrConnection, session: requests.Session | None = None):
        self.connection = connection
        self.base = connection.base_url.rstrip("/")
        self.http = session or requests.Session()
        self._token: tuple[str, float, str] | None = None  # (token, expires at, granted scope)

    def _send(self, method: str, url: str, what: str, **kwargs):
        try:
            return self.http.request(method, url, timeout=TIMEOUT, **kwargs)
        except (requests.Timeout, requests.ConnectionError) as exc:
            raise EhrError(f"{what}: no answer from {url}: {type(exc).__name__}", transient=True) from None

    def token_url(self) -> str:
        if self.connection.token_url:
            return self.connection.token_url
        response = self._send("GET", f"{self.base}/.well-known/smart-configuration", "SMART configuration")
        _raise_for(response, "SMART configuration")
        url = response.json().get("token_endpoint", "")
        if not url:
            raise EhrError("SMART configuration: it names no token_endpoint", transient=False)
        return url

    def token(self) -> tuple[str, str]:
        """An access token and the scope granted, fetched once and reused until a minute before it expires."""
        if self._token and self._token[1] > time.time() + 60:
            return self._token[0], self._token[2]
        c = self.connection
        if not c.private_key:
            raise EhrError("no key pair yet: generate one and register its JWKS with the EHR", transient=False)
        url = self.token_url()
        now = int(time.time())
        assertion = jwt.encode(
            {
                "iss": c.client_id,
                "sub": c.client_id,
                "aud": url,
                "exp": now + 300,
                "iat": now,
                "jti": str(uuid.uuid4()),
            },
            unseal(c.private_key),
            algorithm=c.algorithm,
            headers={"kid": c.key_id, "typ": "JWT"},
        )
        form = {
            "grant_type": "client_credentials",
            "scope": c.scopes,
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion,
        }
        response = self._send("POST", url, "token", data=form)
        _raise_for(response, "token")
        body = response.json()
        self._token = (body["access_token"], time.time() + int(body.get("expires_in", 300)), body.get("scope", ""))
        return self._token[0], self._token[2]

    def _headers(self, **extra) -> dict:
        token, _ = self.token()
        return {"Authorization": f"Bearer {token}", "Accept": FHIR_JSON, **extra}

    def get(self, path: str, what: str, params: dict | None = None) -> dict:
        response = self._send("GET", f"{self.base}/{path}", what, headers=self._headers(), params=params)
        _raise_for(response, what)
        return response.json()

    def search(self, resource_type: str, params: dict, what: str) -> list[dict]:
        """Every resource of a search, following the Bundle's `next` links (only to this EHR's base: the token is
        never sent elsewhere)."""
        found: list[dict] = []
        page = self.get(resource_type, what, params=params)
        while True:
            found += [e["resource"] for e in page.get("entry", []) if e.get("resource", {}).get("resourceType")
                      == resource_type]  # fmt: skip
            following = next((link.get("url", "") for link in page.get("link", []) if link.get("relation") == "next"),
                             "")  # fmt: skip
            if not following:
                return found
            if not following.startswith(self.base + "/"):
                raise EhrError(f"{what}: the next page {following!r} is not on the EHR's base URL", transient=False)
            response = self._send("GET", following, what, headers=self._headers())
            _raise_for(response, what)
            page = response.json()

    def create(self, resource: dict, *, if_none_exist: str, what: str) -> tuple[int, str]:
        """Conditional create: the server makes the resource unless one matches `if_none_exist` (then 200). Returns
        (status, the resource's id on the server)."""
        response = self._send(
            "POST", f"{self.base}/{resource['resourceType']}", what, json=resource,
            headers=self._headers(**{"Content-Type": FHIR_JSON, "If-None-Exist": if_none_exist}),
        )  # fmt: skip
        _raise_for(response, what)
        location = response.headers.get("Location") or response.headers.get("Content-Location") or ""
        rid = location.split(f"{resource['resourceType']}/", 1)[-1].split("/", 1)[0] if location else ""
        if not rid:
            try:
                rid = response.json().get("id", "")
            except ValueError:
                rid = ""
        return response.status_code, rid

    def update(self, resource: dict, *, query: str, what: str) -> tuple[int, str]:
        """Conditional update: the server replaces the one resource matching `query`, or creates it when none does.
        Returns (status, the resource's id on the server)."""
        response = self._send(
            "PUT", f"{self.base}/{resource['resourceType']}?{query}", what, json=resource,
            headers=self._headers(**{"Content-Type": FHIR_JSON}),
        )  # fmt: skip
        _raise_for(response, what)
        try:
            return response.status_code, response.json().get("id", "")
        except ValueError:
            return response.status_code, ""

    def export_kick_off(self, group_id: str, since: str | None) -> str:
        """Start a Bulk Data export of the Group (`$export`, asynchronous); returns the status URL to poll."""
        params = {"_type": ",".join(EXPORT_TYPES)} | ({"_since": since} if since else {})
        response = self._send(
            "GET", f"{self.base}/Group/{group_id}/$export", "Bulk export kick-off", params=params,
            headers=self._headers(Prefer="respond-async"),
        )  # fmt: skip
        _raise_for(response, "Bulk export kick-off")
        location = response.headers.get("Content-Location", "")
        if response.status_code != 202 or not location:
            raise EhrError(f"Bulk export kick-off: expected 202 with a Content-Location, got {response.status_code}",
                           transient=False)  # fmt: skip
        return location

    def export_status(self, url: str) -> tuple[dict | None, int]:
        """(the manifest when the export is complete, else None; the seconds the server asks to wait)."""
        response = self._send("GET", url, "Bulk export status", headers=self._headers())
        _raise_for(response, "Bulk export status")
        wait = response.headers.get("Retry-After", "")
        if response.status_code == 202:
            return None, int(wait) if wait.isdigit() else 5
        return response.json(), 0

    def download(self, url: str, path, *, token: bool) -> int:
        """Stream one output file to `path`; returns its lines. A file cut short raises (never half-imported)."""
        headers = self._headers(Accept="application/fhir+ndjson") if token else {}
        try:
            with self.http.get(url, headers=headers, timeout=TIMEOUT, stream=True) as response:
                _raise_for(response, "Bulk export download")
                lines = 0
                with open(path, "wb") as out:
                    for chunk in response.iter_content(1 << 16):
                        out.write(chunk)
                        lines += chunk.count(b"\n")
                return lines
        except (requests.Timeout, requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
            raise EhrError(f"Bulk export download: {url} was cut short: {type(exc).__name__}", transient=True) from None


EXPORT_TYPES = ("Patient", "Condition", "Encounter", "Coverage", "MedicationRequest", "AllergyIntolerance",
                "Observation", "Immunization", "Practitioner")  # fmt: skip
SEARCHED = EXPORT_TYPES[1:-1]  # searched patient by patient (`sync.search_into`): what refers to a patient


def check(connection: EhrConnection, session=None) -> dict:
    """The connection test: what works and what is missing, each said. Returns {ok, lines: [(ok, text)]}."""
    client = EhrClient(connection, session)
    lines: list[tuple[bool, str]] = []
    try:
        url = client.token_url()
        lines.append((True, f"Token endpoint: {url}"))
        _, granted = client.token()
        lines.append((True, "Access token issued" + (f" with scope “{granted}”" if granted else "")))
        wanted = set(connection.scopes.split())
        refused = sorted(wanted - set(granted.split())) if granted else []
        for scope in refused:
            lines.append((False, f"Scope refused by the EHR: {scope}"))
        meta = client.get("metadata", "CapabilityStatement")
    except EhrError as exc:
        lines.append((False, str(exc)))
        return {"ok": False, "lines": lines}

    def found(ok: bool, works: str, missing: str) -> None:
        lines.append((ok, works if ok else missing))

    version = meta.get("fhirVersion", "")
    found(version.startswith("4.0"), f"FHIR version {version}",
          f"FHIR version {version or 'not stated'} (R4, 4.0.x, is needed)")  # fmt: skip
    resources = {r.get("type"): r for rest in meta.get("rest", []) for r in rest.get("resource", [])}
    doc = resources.get("DocumentReference")
    creates = doc is not None and any(i.get("code") == "create" for i in doc.get("interaction", []))
    found(creates, "DocumentReference create: supported",
          "DocumentReference create: not supported — notes cannot be written back")  # fmt: skip
    if creates:
        found(bool(doc.get("conditionalCreate")), "Conditional create: supported",
              "Conditional create: not supported — a retry could make a second copy")  # fmt: skip
    patient = resources.get("Patient")
    found(patient is not None and any(p.get("name") == "identifier" for p in patient.get("searchParam", [])),
          "Patient search by identifier (MRN): supported",
          "Patient search by identifier: not supported — notes cannot find their patient")  # fmt: skip
    creates = sorted(t for t, r in resources.items() if "create" in {i.get("code") for i in r.get("interaction", [])})
    for kind, kind_type, fallback in (("care_plan", "CarePlan", "care plans go as documents only"),
                                      ("consent", "Consent", "consents go as documents")):  # fmt: skip
        if kind in connection.structured:
            found(kind_type in creates, f"{kind_type} create: supported",
                  f"{kind_type} create: not supported — {fallback}")  # fmt: skip
    if connection.sync_mode == "search":
        searchable = [t for t in SEARCHED if any(i.get("code") == "search-type"
                                                 for i in resources.get(t, {}).get("interaction", []))]  # fmt: skip
        missing = [t for t in SEARCHED if t not in searchable]
        found(not missing, f"Search by patient: supported for {', '.join(searchable)}",
              f"Search by patient: not supported for {', '.join(missing)} — those are not synced")  # fmt: skip
    elif connection.group_id:
        group = resources.get("Group", {})
        exports = any(o.get("name") == "export" for o in group.get("operation", []) + meta_operations(meta))
        found(exports, "Bulk Data export of a Group: supported",
              "Bulk Data export of a Group: not supported — choose search by patient for the sync")  # fmt: skip
    return {"ok": all(ok for ok, _ in lines), "lines": lines, "creates": creates}


def meta_operations(meta: dict) -> list[dict]:
    return [o for rest in meta.get("rest", []) for o in rest.get("operation", [])]
