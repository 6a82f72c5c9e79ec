"""A practice's values for the rules engine's named policies (docs/rules-engine.md), set by its program owner
with a reason. They apply to every month not yet closed."""

from __future__ import annotations

from django.db import transaction

from ccmops.errors import InvalidInput
from ccmops.organizations.changes import record_change
from ccmops.organizations.models import Organization
from ccmops.organizations.validators import reason_given
from ccmops.platform.numerals import ascii_digits
from ccmops.rules.policies import DEFAULT_POLICIES, SPECS, PolicyError, spec_named


def policies(org: Organization) -> list[dict]:
    """The rules engine's named policies (docs/rules-engine.md) with the practice's value: each with its default,
    the rule IDs it rests on, what it decides, and whether the practice overrides it."""

    own = org.rule_policies or {}
    return [
        {
            "name": s.name,
            "kind": s.kind.__name__,
            "choices": list(s.choices),
            "default": s.default,
            "value": own.get(s.name, s.default),
            "overridden": s.name in own and own[s.name] != s.default,
            "rules": list(s.rules),
            "description": s.description,
        }
        for s in SPECS
    ]


def _policy_value(spec, raw):
    """A value as the form or command line gives it (text) or as JSON gives it, in the policy's own type."""
    if not isinstance(raw, str):
        return raw
    text = raw.strip()
    if spec.kind is bool:
        if text.lower() not in ("true", "false"):
            raise InvalidInput(f"{spec.name}: expected true or false, got {raw!r}")
        return text.lower() == "true"
    if spec.kind is int:
        if not ascii_digits(text):
            raise InvalidInput(f"{spec.name}: expected a whole number ≥ 0, got {raw!r}")
        return int(text)
    return text


@transaction.atomic
def change_policies(*, org: Organization, values: dict, reason: str, by, actor: str = "") -> dict[str, list]:
    """Set some of the practice's rule policies (a value equal to the default removes the override); a reason is
    required. They apply to every month not yet closed: a month evaluated under other policies is re-decided at
    its next evaluation, and cannot be approved before (its decisions' facts no longer match). Returns
    {name: [before, after]}.

    Raises:
        InvalidInput: a partner, an unknown policy, a value of the wrong type or choice, no reason.
    """

    if not org.is_practice:
        raise InvalidInput(f"practice: {org} is a partner; rule policies are a practice's")
    org = Organization.objects.select_for_update().get(pk=org.pk)
    reason = reason_given(reason)
    own = dict(org.rule_policies or {})
    changed: dict[str, list] = {}
    for name, raw in values.items():
        spec = spec_named(name)
        if spec is None:
            raise InvalidInput(f"{name}: not a rule policy; expected one of {', '.join(s.name for s in SPECS)}")
        value = _policy_value(spec, raw)
        try:
            DEFAULT_POLICIES.with_overrides({name: value}, path="policies")
        except PolicyError as exc:
            raise InvalidInput(f"{name}: {exc.message}") from None
        before = own.get(name, spec.default)
        if value == before:
            continue
        changed[name] = [before, value]
        if value == spec.default:
            own.pop(name, None)
        else:
            own[name] = value
    if not changed:
        return {}
    org.rule_policies = own
    org.save(update_fields=["rule_policies"])
    record_change(
        chain=org.id,
        obj=org,
        object_type="rule_policies",
        by=by,
        actor=actor,
        detail={"changed": changed, "reason": reason},
    )
    return changed
