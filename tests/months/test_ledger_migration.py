"""The patient-month ledger took MonthStanding, MonthClose and Adjustment over from billing: migrating a database
across that change keeps every row (only Django's record of which app owns the models changes)."""

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("billing", "0012_fee_schedule_releases"), ("months", None)]


@pytest.mark.django_db(transaction=True)
def test_migrating_across_the_move_keeps_the_month_records():
    executor = MigrationExecutor(connection)
    leaves = executor.loader.graph.leaf_nodes()
    executor.migrate(BEFORE)
    # every other app as it stands, billing before the move, no ledger
    old = executor.loader.project_state([n for n in leaves if n[0] not in ("billing", "months")] + BEFORE[:1]).apps
    practice = old.get_model("organizations", "Organization").objects.create(
        slug="moved", kind="practice", name="Moved Practice"
    )
    at = dt.datetime(2026, 11, 30, 18, tzinfo=dt.UTC)
    old.get_model("billing", "MonthClose").objects.create(
        practice_id=practice.id, month="2026-10", status="closed", evaluated_at=at, closed_at=at
    )

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    from ccmops.months.ledger import is_closed
    from ccmops.months.models import MonthClose

    moved = MonthClose.objects.get(practice_id=practice.id)
    assert (moved.month, moved.status, moved.closed_at) == ("2026-10", "closed", at)
    assert is_closed(practice.id, "2026-10") and not is_closed(practice.id, "2026-11")
