"""One audit event for a change a lead makes to their organization (settings, practitioners, policies,
engagements, staff), in the chain of the practice it concerns."""

from __future__ import annotations

from ccmops.compliance.audit import record_audit
from ccmops.compliance.models import AuditAction


def record_change(
    *, chain: int, obj, object_type: str, detail: dict, by, actor: str = "", action: AuditAction = AuditAction.UPDATE
) -> None:
    """Audit a change by `by` (a signed-in lead) or `actor` (the command line: "cli:<os user>")."""
    record_audit(
        action=action,
        user=by,
        username=actor,
        practice_id=chain,
        obj=obj,
        object_type=object_type,
        detail=detail,
    )
