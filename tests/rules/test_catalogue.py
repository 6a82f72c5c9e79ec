"""Every rule ID of cms-rules.md is handled (catalogue) and referenced by at least one test; every policy is
documented with its default."""

import re
from pathlib import Path

import pytest

from ccmops.rules.catalogue import CATALOGUE
from ccmops.rules.policies import SPECS

ROOT = Path(__file__).resolve().parents[2]
RULES_DOC = ROOT.parent / "shared" / "reference" / "cms-rules.md"
needs_shared = pytest.mark.skipif(not RULES_DOC.exists(), reason="../shared is not beside this checkout")


def rule_ids() -> set[str]:
    return set(re.findall(r"\*\*(R-[A-Z0-9]+(?:-[A-Z0-9]+)*)", RULES_DOC.read_text()))


@needs_shared
def test_catalogue_has_exactly_the_rule_ids_of_the_reference():
    assert set(CATALOGUE) == rule_ids()


@needs_shared
def test_every_rule_id_is_referenced_by_a_test():
    tests = "\n".join(p.read_text() for p in (ROOT / "tests").rglob("test_*.py"))
    missing = sorted(r for r in rule_ids() if not re.search(re.escape(r) + r"(?![0-9])", tests))
    assert missing == []


def test_every_engine_rule_id_in_findings_is_in_the_catalogue():
    src = "\n".join(p.read_text() for p in (ROOT / "src" / "ccmops" / "rules").rglob("*.py"))
    cited = set(re.findall(r'"(R-[A-Z0-9]+(?:-[A-Z0-9]+)*)"', src))
    assert cited <= set(CATALOGUE)


def test_policy_rows_name_real_policies():
    names = {s.name for s in SPECS}
    for row in CATALOGUE.values():
        if row.handling == "policy":
            assert any(n in row.how for n in names), row


def test_every_policy_is_documented_with_its_default():
    doc = (ROOT / "docs" / "rules-engine.md").read_text()
    for spec in SPECS:
        assert f"`{spec.name}`" in doc, spec.name
        assert f"`{str(spec.default).lower() if isinstance(spec.default, bool) else spec.default}`" in doc, spec.name


WORKFLOW_RULES = [
    "R-ACCESS-1",
    "R-CCM-ACT",
    "R-COMM-1",
    "R-CONS-4",
    "R-CONT-1",
    "R-EHR-1",
    "R-HCBS-1",
    "R-PLAN-4",
    "R-SUP-4",
    "R-SUP-6",
    "R-TRANS-1",
]


def test_workflow_rules_are_exactly_these():
    assert sorted(r for r, row in CATALOGUE.items() if row.handling == "workflow") == WORKFLOW_RULES


@pytest.mark.parametrize("rule", WORKFLOW_RULES)
def test_workflow_rules_are_not_claimed_by_the_engine(rule):
    """Workflow rules are program workflow (enrollment, care plans, worklists, audit packets), not
    patient-month facts: no engine finding may cite them as decided."""
    src = "\n".join(
        p.read_text() for p in (ROOT / "src" / "ccmops" / "rules").rglob("*.py") if p.name != "catalogue.py"
    )
    assert f'"{rule}"' not in src
