"""Counts the fuzz cases run and prints the total at the end of the session (issue 9 asks for the number)."""

from collections import Counter

import pytest

CASES: Counter = Counter()


@pytest.fixture
def count_case(request):
    name = request.node.originalname

    def _count() -> None:
        CASES[name] += 1

    return _count


def pytest_terminal_summary(terminalreporter):
    if CASES:
        terminalreporter.write_sep("-", f"fuzz cases run: {sum(CASES.values())}")
        for name, n in sorted(CASES.items()):
            terminalreporter.write_line(f"  {n:>6}  {name}")
