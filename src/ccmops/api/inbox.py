"""The signed-in person's inbox over the API."""

from __future__ import annotations

from ninja import Router

from ccmops.patients.scope import request_scope
from ccmops.reporting.inbox import inbox

router = Router(tags=["inbox"])


@router.get("/inbox", response={200: dict})
def get_inbox(request):
    """What waits for you across your practices (care plans to approve, notes to sign, calls today, follow-ups
    due, held patients, months to review or approve, adjustments, partner engagements starting or ending, jobs
    that did not finish), routed by each practice's responsibility matrix; each item with the page where it is
    done."""
    items = inbox(request_scope(request), request.user)
    return {"count": len(items), "items": [i.as_dict() for i in items]}
