"""The access policy: from memberships, engagements and matrices, which practices' patients a user may see
and which functions they may perform there, with the grant that allowed each (pure; no Django).

Rules (IDs appear on every grant):

- A-PRACTICE-STAFF: practice staff see their own practice's patients.
- A-PRACTICE-FUNCTION: practice staff perform a function their role covers when the practice owns it in
  the matrix in force (a practice without any matrix is in-house).
- A-OVERSIGHT: clinical oversight always belongs to the practice's billing practitioners.
- A-PARTNER-ENGAGED: partner staff see a practice's patients while an engagement is active on the date and
  the matrix in force gives the partner at least one function.
- A-PARTNER-FUNCTION: partner staff perform a function their role covers when the matrix gives it to their
  partner.
- Compliance reviewers see (read-only); system administrators configure and see no patient data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from ccmops.access.operating_model import Function


class OrgKind(StrEnum):
    PRACTICE = "practice"
    PARTNER = "partner"


class Role(StrEnum):
    CARE_MANAGER = "care_manager"
    BILLING_PRACTITIONER = "billing_practitioner"
    BILLER = "biller"
    PROGRAM_OWNER = "program_owner"
    PARTNER_OPS_LEAD = "partner_ops_lead"
    COMPLIANCE_REVIEWER = "compliance_reviewer"
    SYSTEM_ADMIN = "system_admin"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


# Who reads program health with its revenue figures and runs the model-fit assessment (README, security review 9).
PROGRAM_LEADS = frozenset({Role.PROGRAM_OWNER, Role.PARTNER_OPS_LEAD})

ROLE_LABELS = {
    Role.CARE_MANAGER: "Care manager",
    Role.BILLING_PRACTITIONER: "Billing practitioner",
    Role.BILLER: "Biller",
    Role.PROGRAM_OWNER: "Program owner",
    Role.PARTNER_OPS_LEAD: "Partner operations lead",
    Role.COMPLIANCE_REVIEWER: "Compliance reviewer",
    Role.SYSTEM_ADMIN: "System administrator",
}

ROLES_BY_KIND = {
    OrgKind.PRACTICE: frozenset(
        {
            Role.CARE_MANAGER,
            Role.BILLING_PRACTITIONER,
            Role.BILLER,
            Role.PROGRAM_OWNER,
            Role.COMPLIANCE_REVIEWER,
            Role.SYSTEM_ADMIN,
        }
    ),
    OrgKind.PARTNER: frozenset(
        {Role.CARE_MANAGER, Role.BILLER, Role.PARTNER_OPS_LEAD, Role.COMPLIANCE_REVIEWER, Role.SYSTEM_ADMIN}
    ),
}

_EXECUTION = frozenset(
    {
        Function.IDENTIFICATION,
        Function.ENROLLMENT_CONSENT,
        Function.CARE_PLANNING,
        Function.MONTHLY_OUTREACH,
        Function.CARE_COORDINATION,
        Function.TIME_TRACKING,
        Function.DOCUMENTATION,
    }
)
ROLE_FUNCTIONS: dict[Role, frozenset[Function]] = {
    Role.CARE_MANAGER: _EXECUTION,
    Role.BILLING_PRACTITIONER: frozenset(
        {
            Function.ENROLLMENT_CONSENT,
            Function.CARE_PLANNING,
            Function.CARE_COORDINATION,
            Function.TIME_TRACKING,
            Function.DOCUMENTATION,
            Function.CLINICAL_OVERSIGHT,
        }
    ),
    Role.BILLER: frozenset({Function.BILLING}),
    Role.PROGRAM_OWNER: frozenset(Function) - {Function.CLINICAL_OVERSIGHT},
    Role.PARTNER_OPS_LEAD: frozenset(Function) - {Function.CLINICAL_OVERSIGHT},
    Role.COMPLIANCE_REVIEWER: frozenset(),
    Role.SYSTEM_ADMIN: frozenset(),
}
# Roles that see patient data at all.
_SEES_PATIENTS = frozenset(Role) - {Role.SYSTEM_ADMIN}


@dataclass(frozen=True)
class MembershipFact:
    organization_id: int
    organization_kind: OrgKind
    role: Role


@dataclass(frozen=True)
class EngagementFact:
    practice_id: int
    partner_id: int
    starts_on: dt.date
    ends_on: dt.date | None = None

    def active_on(self, on: dt.date) -> bool:
        return self.starts_on <= on and (self.ends_on is None or on <= self.ends_on)


@dataclass(frozen=True)
class Grant:
    """One reason a user may see a practice's patients (`function` None) or perform a function there."""

    practice_id: int
    function: Function | None
    rule: str
    via_organization_id: int
    via_role: Role

    @property
    def reason(self) -> str:
        """The rule in words, for pages (the rule ID stays for auditors)."""
        return RULE_WORDS.get(self.rule, self.rule)


RULE_WORDS = {
    "A-PRACTICE-STAFF": "you are on this practice's staff",
    "A-PRACTICE-FUNCTION": "your role here, for the functions the practice keeps",
    "A-OVERSIGHT": "clinical oversight, which stays with the practice's billing practitioners",
    "A-PARTNER-ENGAGED": "your organization's engagement with this practice",
    "A-PARTNER-FUNCTION": "the functions this practice gives your organization",
}


@dataclass(frozen=True)
class AccessDecision:
    grants: tuple[Grant, ...] = field(default_factory=tuple)

    @property
    def visible_practice_ids(self) -> frozenset[int]:
        return frozenset(g.practice_id for g in self.grants if g.function is None)

    def can_view(self, practice_id: int) -> bool:
        return practice_id in self.visible_practice_ids

    def grant_for(self, practice_id: int, function: Function | None = None) -> Grant | None:
        """The first grant allowing the view (function None) or the function; None when refused."""
        for g in self.grants:
            if g.practice_id == practice_id and g.function == function:
                return g
        return None

    def functions_at(self, practice_id: int) -> frozenset[Function]:
        return frozenset(g.function for g in self.grants if g.practice_id == practice_id and g.function)

    def roles_at(self, practice_id: int) -> frozenset[Role]:
        """The roles through which the user sees this practice's patients: a role held in another organization is
        never honoured here (a compliance reviewer at one practice is not one at a practice they serve as a
        partner's care manager)."""
        return frozenset(g.via_role for g in self.grants if g.practice_id == practice_id and g.function is None)

    def practices_with_role(self, role: Role) -> frozenset[int]:
        return frozenset(g.practice_id for g in self.grants if g.function is None and g.via_role is role)


def decide_access(
    *,
    memberships: Iterable[MembershipFact],
    engagements: Iterable[EngagementFact],
    owners_in_force: Mapping[int, Mapping[Function, int]],
    on: dt.date,
) -> AccessDecision:
    """Evaluate the access rules in the module docstring.

    Args:
        memberships: the user's active memberships.
        engagements: engagements of the partners the user belongs to.
        owners_in_force: per practice id, the owning organization of each function in the matrix in force
            on `on`; a practice missing here has no matrix and is treated as in-house.
        on: the date access is evaluated for.
    """
    grants: list[Grant] = []
    engagements = list(engagements)
    for m in memberships:
        if m.role not in _SEES_PATIENTS or m.role not in ROLES_BY_KIND[m.organization_kind]:
            continue
        role_functions = ROLE_FUNCTIONS[m.role]
        if m.organization_kind is OrgKind.PRACTICE:
            practice = m.organization_id
            owners = owners_in_force.get(practice)
            grants.append(Grant(practice, None, "A-PRACTICE-STAFF", practice, m.role))
            for function in sorted(role_functions):
                if function is Function.CLINICAL_OVERSIGHT:
                    grants.append(Grant(practice, function, "A-OVERSIGHT", practice, m.role))
                elif owners is None or owners.get(function) == practice:
                    grants.append(Grant(practice, function, "A-PRACTICE-FUNCTION", practice, m.role))
            continue
        partner = m.organization_id
        for e in engagements:
            if e.partner_id != partner or not e.active_on(on):
                continue
            owners = owners_in_force.get(e.practice_id) or {}
            partner_functions = {f for f, org in owners.items() if org == partner}
            if not partner_functions:
                continue
            grants.append(Grant(e.practice_id, None, "A-PARTNER-ENGAGED", partner, m.role))
            for function in sorted(partner_functions & role_functions):
                grants.append(Grant(e.practice_id, function, "A-PARTNER-FUNCTION", partner, m.role))
    return AccessDecision(tuple(grants))
