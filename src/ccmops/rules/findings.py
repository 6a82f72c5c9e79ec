"""A small collector so every check adds findings the same way (collect all; never stop at the first)."""

from __future__ import annotations

from ccmops.rules.decision import Finding, Severity


class Findings:
    def __init__(self) -> None:
        self._items: list[Finding] = []

    def add(self, code: str, severity: Severity, message: str, *rules: str) -> None:
        finding = Finding(code, severity, message, tuple(rules))
        if finding not in self._items:
            self._items.append(finding)

    def info(self, code: str, message: str, *rules: str) -> None:
        self.add(code, Severity.INFO, message, *rules)

    def warning(self, code: str, message: str, *rules: str) -> None:
        self.add(code, Severity.WARNING, message, *rules)

    def hold(self, code: str, message: str, *rules: str) -> None:
        self.add(code, Severity.HOLD, message, *rules)

    def refusal(self, code: str, message: str, *rules: str) -> None:
        self.add(code, Severity.REFUSAL, message, *rules)

    def extend(self, other: Findings) -> None:
        for f in other.all():
            self.add(f.code, f.severity, f.message, *f.rules)

    def all(self) -> tuple[Finding, ...]:
        return tuple(self._items)

    def has(self, severity: Severity) -> bool:
        return any(f.severity is severity for f in self._items)
