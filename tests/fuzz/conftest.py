"""Counts the fuzz cases run; tests/conftest.py prints the total at the end of the session (issue 9 asks for the
number), adding up the counts of pytest-xdist workers."""

from collections import Counter

import pytest


@pytest.fixture
def count_case(request):
    name = request.node.originalname
    cases = request.config.__dict__.setdefault("ccmops_fuzz_cases", Counter())

    def _count() -> None:
        cases[name] += 1

    return _count
