"""Invariants of the engine over generated patient-months (hypothesis)."""

import datetime as dt
import itertools
import json

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.rules.builders import BP, consent, doc

from ccmops.rules.calendar import month_window
from ccmops.rules.consent import consent_state
from ccmops.rules.contract import decision_to_json, parse_patient_month
from ccmops.rules.engine import evaluate
from ccmops.rules.families import LADDERS
from ccmops.rules.policies import DEFAULT_POLICIES
from ccmops.rules.timecount import count_time

ZONE = dt.timezone(dt.timedelta(hours=-5))
MONTH_START = dt.datetime(2026, 5, 1, tzinfo=ZONE)

instants = st.integers(min_value=-3 * 24 * 60, max_value=34 * 24 * 60).map(
    lambda m: (MONTH_START + dt.timedelta(minutes=m)).isoformat()
)


@st.composite
def entries(
    draw,
    roles=("clinical_staff", "billing_practitioner", "other_practitioner", "non_clinical"),
    programs=("ccm", "ccm", "ccm", "pcm", "rpm"),
):
    n = draw(st.integers(min_value=0, max_value=12))
    out = []
    for i in range(n):
        out.append(
            {
                "id": f"e{i}",
                "start": draw(instants),
                "minutes": draw(st.integers(min_value=1, max_value=75)),
                "staff_id": draw(st.sampled_from(["rn-1", "rn-2", "lpn-3", BP])),
                "staff_role": draw(st.sampled_from(roles)),
                "employer": draw(st.sampled_from(["practice", "partner"])),
                "program": draw(st.sampled_from(programs)),
                "located_in_us": draw(st.sampled_from([True, True, True, False])),
                "counted_for": draw(st.sampled_from([None, None, None, None, "99457"])),
            }
        )
    return out


@st.composite
def months(draw, roles=None, programs=None, with_mdm=True):
    kwargs = {}
    if roles:
        kwargs["roles"] = roles
    if programs:
        kwargs["programs"] = programs
    d = doc(time_entries=draw(entries(**kwargs)))
    d["consents"] = draw(
        st.lists(
            st.builds(
                lambda at, elements, who, program: consent(program, at, elements=elements, practitioner_id=who),
                instants,
                st.sampled_from([["cost_sharing", "one_practitioner_per_month", "right_to_stop"], ["cost_sharing"]]),
                st.sampled_from([BP, BP, "npi-other"]),
                st.sampled_from(["ccm", "ccm", "pcm", "apcm"]),
            ),
            max_size=3,
        )
    )
    if with_mdm and draw(st.booleans()):
        d["medical_decision_making"] = [{"date": "2026-05-10", "complexity": "high", "practitioner_id": BP}]
        d["care_plan"]["revisions"] = [{"at": "2026-05-10T10:00:00-05:00", "substantial": True}]
    if draw(st.booleans()):
        start = dt.date(2026, 5, draw(st.integers(1, 28)))
        d["patient"]["facility_stays"] = [
            {
                "kind": "inpatient",
                "start": start.isoformat(),
                "end": (start + dt.timedelta(days=3)).isoformat(),
            }
        ]
    return d


def _evaluate(d):
    return evaluate(parse_patient_month(json.dumps(d)))


@settings(max_examples=150, deadline=None)
@given(months())
def test_no_second_of_any_entry_is_counted_twice_or_lost(d):
    pm = parse_patient_month(json.dumps(d))
    window = month_window(pm.month, pm.practice.timezone)
    states = {p: consent_state(pm, p, window, DEFAULT_POLICIES) for p in ("ccm", "pcm", "apcm", "bhi")}
    result = count_time(
        pm,
        window,
        DEFAULT_POLICIES,
        consented={p: list(s.intervals) for p, s in states.items()},
        initiated_from={},
    )
    segments = sorted(result.counted, key=lambda s: s.start)
    for a, b in itertools.pairwise(segments):
        assert a.end <= b.start, "two counted segments overlap"
    for entry in pm.time_entries:
        counted = sum(s.seconds for s in result.counted if s.entry_id == entry.id)
        excluded = sum(v for (eid, _), v in result.excluded_seconds.items() if eid == entry.id)
        assert counted + excluded == entry.minutes * 60


@settings(max_examples=150, deadline=None)
@given(months())
def test_no_line_without_a_valid_consent_by_this_practitioner(d):
    decision = _evaluate(d)
    if not decision.lines:
        return
    program = {"apcm": "apcm", "pcm": "pcm", "pcm_personal": "pcm"}.get(decision.family, "ccm")
    end = dt.datetime(2026, 6, 1, tzinfo=ZONE)
    assert any(
        c["program"] == program
        and c["practitioner_id"] == BP
        and len(c["elements"]) == 3
        and dt.datetime.fromisoformat(c["documented_at"]) < end
        for c in d["consents"]
    )


@settings(max_examples=150, deadline=None)
@given(months())
def test_every_lines_units_match_the_counted_minutes(d):
    decision = _evaluate(d)
    if decision.family not in LADDERS:
        return
    ladder = LADDERS[decision.family]
    pm = parse_patient_month(json.dumps(d))
    window = month_window(pm.month, pm.practice.timezone)
    minutes = decision.counted_minutes.clinical_staff + decision.counted_minutes.billing_practitioner
    if ladder.roles == frozenset({"billing_practitioner"}):
        minutes = decision.counted_minutes.billing_practitioner
    base, addon = ladder.units(minutes, DEFAULT_POLICIES)
    expected = [(ladder.base, base)] + ([(ladder.addon, addon)] if addon else [])
    assert [(x.code, x.units) for x in decision.lines] == expected
    assert all(window.contains_date(x.date_of_service) for x in decision.lines)


@settings(max_examples=100, deadline=None)
@given(months(roles=("clinical_staff",), programs=("ccm",), with_mdm=False), st.integers(0, 30 * 24 * 60 - 1))
def test_adding_a_counted_minute_never_removes_a_billable_line(d, offset):
    before = _evaluate(d)
    start = MONTH_START + dt.timedelta(minutes=offset)
    d = json.loads(json.dumps(d))
    d["patient"]["facility_stays"] = []
    d["time_entries"] = [e for e in d["time_entries"]]
    taken = [(dt.datetime.fromisoformat(e["start"]), e["minutes"]) for e in d["time_entries"]]
    if any(s <= start < s + dt.timedelta(minutes=m) for s, m in taken):
        return
    before = _evaluate(d)
    d["time_entries"].append(
        {
            "id": "added",
            "start": start.isoformat(),
            "minutes": 1,
            "staff_id": "rn-9",
            "staff_role": "clinical_staff",
            "employer": "practice",
            "program": "ccm",
            "located_in_us": True,
            "counted_for": None,
        }
    )
    after = _evaluate(d)
    units_before = {x.code: x.units for x in before.lines}
    units_after = {x.code: x.units for x in after.lines}
    for code, units in units_before.items():
        assert units_after.get(code, 0) >= units, (code, units_before, units_after)
    assert after.total >= before.total


@settings(max_examples=100, deadline=None)
@given(months())
def test_decision_json_is_always_well_formed(d):
    out = decision_to_json(_evaluate(d))
    assert out["status"] in ("ready", "hold", "nothing_billable")
    assert (out["status"] == "nothing_billable") == (out["lines"] == [])
    for f in out["findings"]:
        assert f["rules"], f
