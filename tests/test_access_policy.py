"""The pure access policy, table-driven, plus a hypothesis property over random worlds."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ccmops.access.operating_model import PARTNER, PRACTICE, Function, Preset, preset_parties
from ccmops.access.policy import EngagementFact, MembershipFact, OrgKind, Role, decide_access

PRACTICE_A, PRACTICE_B, PARTNER_X, PARTNER_Y = 1, 2, 10, 11
TODAY = dt.date(2026, 11, 27)


def owners(preset: Preset, practice: int, partner: int | None):
    return {f: practice if p == PRACTICE else partner for f, p in preset_parties(preset).items()}


HYBRID_A = {PRACTICE_A: owners(Preset.HYBRID_PARTNER_MONTHLY, PRACTICE_A, PARTNER_X)}
ENGAGED = [EngagementFact(PRACTICE_A, PARTNER_X, dt.date(2026, 6, 1))]


@pytest.mark.parametrize(
    ("org", "kind", "role", "engagements", "matrices", "sees", "performs", "rule"),
    [
        # practice staff see their practice; in-house (no matrix) they perform their role's functions
        (
            PRACTICE_A,
            OrgKind.PRACTICE,
            Role.CARE_MANAGER,
            [],
            {},
            {PRACTICE_A},
            {Function.MONTHLY_OUTREACH, Function.DOCUMENTATION},
            "A-PRACTICE-STAFF",
        ),
        # practice care manager under hybrid: sees patients, but outreach belongs to the partner
        (
            PRACTICE_A,
            OrgKind.PRACTICE,
            Role.CARE_MANAGER,
            [],
            HYBRID_A,
            {PRACTICE_A},
            {Function.IDENTIFICATION, Function.CARE_PLANNING},
            "A-PRACTICE-STAFF",
        ),
        # partner care manager engaged and owning monthly work
        (
            PARTNER_X,
            OrgKind.PARTNER,
            Role.CARE_MANAGER,
            ENGAGED,
            HYBRID_A,
            {PRACTICE_A},
            {Function.MONTHLY_OUTREACH, Function.DOCUMENTATION},
            "A-PARTNER-ENGAGED",
        ),
        # partner engaged but the matrix gives it nothing: no access
        (
            PARTNER_X,
            OrgKind.PARTNER,
            Role.CARE_MANAGER,
            ENGAGED,
            {PRACTICE_A: owners(Preset.IN_HOUSE, PRACTICE_A, None)},
            set(),
            set(),
            None,
        ),
        # another partner is never let in
        (PARTNER_Y, OrgKind.PARTNER, Role.PARTNER_OPS_LEAD, ENGAGED, HYBRID_A, set(), set(), None),
        # ended engagement
        (
            PARTNER_X,
            OrgKind.PARTNER,
            Role.CARE_MANAGER,
            [EngagementFact(PRACTICE_A, PARTNER_X, dt.date(2026, 1, 1), dt.date(2026, 10, 31))],
            HYBRID_A,
            set(),
            set(),
            None,
        ),
        # compliance reviewer sees but performs nothing
        (
            PRACTICE_B,
            OrgKind.PRACTICE,
            Role.COMPLIANCE_REVIEWER,
            [],
            {},
            {PRACTICE_B},
            set(),
            "A-PRACTICE-STAFF",
        ),
        # system admin configures; no patient data
        (PRACTICE_A, OrgKind.PRACTICE, Role.SYSTEM_ADMIN, [], {}, set(), set(), None),
        # a role that does not exist at a partner is ignored
        (PARTNER_X, OrgKind.PARTNER, Role.BILLING_PRACTITIONER, ENGAGED, HYBRID_A, set(), set(), None),
    ],
)
def test_access_rules(org, kind, role, engagements, matrices, sees, performs, rule):
    decision = decide_access(
        memberships=[MembershipFact(org, kind, role)],
        engagements=engagements,
        owners_in_force=matrices,
        on=TODAY,
    )
    assert decision.visible_practice_ids == sees
    for practice in sees:
        assert performs <= decision.functions_at(practice)
        assert decision.grant_for(practice).rule == rule
    if not sees:
        assert decision.grants == ()


def test_practice_care_manager_under_hybrid_does_not_perform_partner_functions():
    decision = decide_access(
        memberships=[MembershipFact(PRACTICE_A, OrgKind.PRACTICE, Role.CARE_MANAGER)],
        engagements=[],
        owners_in_force=HYBRID_A,
        on=TODAY,
    )
    assert Function.MONTHLY_OUTREACH not in decision.functions_at(PRACTICE_A)
    assert decision.grant_for(PRACTICE_A, Function.MONTHLY_OUTREACH) is None


def test_clinical_oversight_stays_with_practice_billing_practitioner_under_managed():
    managed = {PRACTICE_A: owners(Preset.MANAGED, PRACTICE_A, PARTNER_X)}
    practitioner = decide_access(
        memberships=[MembershipFact(PRACTICE_A, OrgKind.PRACTICE, Role.BILLING_PRACTITIONER)],
        engagements=[],
        owners_in_force=managed,
        on=TODAY,
    )
    assert practitioner.grant_for(PRACTICE_A, Function.CLINICAL_OVERSIGHT).rule == "A-OVERSIGHT"
    lead = decide_access(
        memberships=[MembershipFact(PARTNER_X, OrgKind.PARTNER, Role.PARTNER_OPS_LEAD)],
        engagements=ENGAGED,
        owners_in_force=managed,
        on=TODAY,
    )
    assert Function.CLINICAL_OVERSIGHT not in lead.functions_at(PRACTICE_A)
    assert Function.BILLING in lead.functions_at(PRACTICE_A)


practices = st.integers(min_value=1, max_value=6)
partners = st.integers(min_value=100, max_value=103)
dates = st.dates(min_value=dt.date(2025, 1, 1), max_value=dt.date(2027, 12, 31))


@st.composite
def worlds(draw):
    engagements = draw(
        st.lists(
            st.builds(
                lambda p, x, s, length: EngagementFact(p, x, s, None if length is None else s + dt.timedelta(length)),
                practices,
                partners,
                dates,
                st.none() | st.integers(0, 400),
            ),
            max_size=8,
        )
    )
    matrices = {}
    for practice in draw(st.sets(practices, max_size=6)):
        partner = draw(partners)
        parties = draw(st.fixed_dictionaries({f: st.sampled_from([PRACTICE, PARTNER]) for f in Function}))
        parties[Function.CLINICAL_OVERSIGHT] = PRACTICE
        matrices[practice] = {f: practice if p == PRACTICE else partner for f, p in parties.items()}
    memberships = draw(
        st.lists(
            st.one_of(
                st.builds(MembershipFact, practices, st.just(OrgKind.PRACTICE), st.sampled_from(list(Role))),
                st.builds(MembershipFact, partners, st.just(OrgKind.PARTNER), st.sampled_from(list(Role))),
            ),
            min_size=1,
            max_size=4,
        )
    )
    return memberships, engagements, matrices, draw(dates)


@given(worlds())
def test_no_practice_is_visible_without_membership_or_an_active_engagement_owning_a_function(world):
    memberships, engagements, matrices, on = world
    decision = decide_access(memberships=memberships, engagements=engagements, owners_in_force=matrices, on=on)
    own = {m.organization_id for m in memberships if m.organization_kind is OrgKind.PRACTICE}
    my_partners = {m.organization_id for m in memberships if m.organization_kind is OrgKind.PARTNER}
    for g in decision.grants:
        if g.practice_id in own:
            continue
        # reached through a partner: engagement active on the date and the matrix gives the partner a function
        assert g.via_organization_id in my_partners
        assert any(
            e.practice_id == g.practice_id and e.partner_id == g.via_organization_id and e.active_on(on)
            for e in engagements
        )
        assert g.via_organization_id in matrices.get(g.practice_id, {}).values()
        if g.function is not None:
            assert matrices[g.practice_id][g.function] == g.via_organization_id
    assert all(g.function is not Function.CLINICAL_OVERSIGHT or g.rule == "A-OVERSIGHT" for g in decision.grants)
