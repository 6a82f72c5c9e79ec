"""The facts a month close fingerprints are the contract's own JSON (issue 30: one place for the contract)."""

from __future__ import annotations

import datetime as dt
import json

from ccmops.billing.facts import month_documents, month_patients
from ccmops.billing.models import PatientMonthDecision
from ccmops.rules.contract import PatientMonth


def test_the_documents_are_the_contracts_own_json(history):
    """The fingerprint of a decision is taken from the document the close builds (`month_documents`): it must be
    exactly what the contract's model says, so that the builder and the model cannot drift apart. Every document
    of a practice's last closed month (six months of varied work) is read back through the model and written out
    again: the same JSON, field for field (the builder states no field the model would drop or reshape)."""
    checked = 0
    for practice in history.values():
        months = sorted(set(PatientMonthDecision.objects.filter(practice=practice).values_list("month", flat=True)))
        for month in months[-2:]:
            ids = list(
                PatientMonthDecision.objects.filter(practice=practice, month=month).values_list("patient_id", flat=True)
            )
            for document in month_documents(month_patients(ids), month).values():
                again = PatientMonth.model_validate_json(document).model_dump_json(by_alias=True, exclude_unset=True)
                assert _normal(json.loads(again)) == _normal(json.loads(document))
                checked += 1
    assert checked > 100


def _normal(value):
    """JSON with instants compared as instants ("Z" and "+00:00" are the same moment)."""
    if isinstance(value, dict):
        return {k: _normal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normal(v) for v in value]
    if isinstance(value, str) and len(value) > 19 and value[10:11] == "T":
        return dt.datetime.fromisoformat(value)
    return value
