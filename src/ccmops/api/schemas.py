from __future__ import annotations

import datetime as dt

from ninja import Schema


class GrantOut(Schema):
    practice_id: int
    function: str | None
    rule: str
    via_organization_id: int
    via_role: str


class MeOut(Schema):
    username: str
    name: str
    roles: list[str]
    grants: list[GrantOut]


class PatientSummary(Schema):
    id: int
    practice_id: int
    mrn: str
    given_name: str
    family_name: str
    birth_date: dt.date
    care_manager: str | None


class ConditionOut(Schema):
    system: str
    code: str
    display: str
    onset: dt.date | None
    abated: dt.date | None


class PatientOut(PatientSummary):
    sex: str
    deceased_on: dt.date | None
    medicare_coverage: str
    billing_practitioner_npi: str | None
    conditions: list[ConditionOut]


class AssignmentOut(Schema):
    function: str
    owner_id: int
    owner_name: str
    party: str


class MatrixOut(Schema):
    practice_id: int
    version: int
    effective_from: dt.date
    preset: str
    partner_id: int | None
    reason: str
    created_by: str | None
    created_at: dt.datetime
    assignments: list[AssignmentOut]


class MatrixIn(Schema):
    preset: str
    effective_from: dt.date
    reason: str
    partner_id: int | None = None
    parties: dict[str, str] | None = None


class ErrorOut(Schema):
    detail: str
