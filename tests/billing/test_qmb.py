"""QMB: a Qualified Medicare Beneficiary's months bill no patient share; periods are recorded, checked and kept."""

import datetime as dt
import json
from decimal import Decimal

import pytest
from tests.factories.billing import previous_month

from ccmops.billing.evaluation import close_month
from ccmops.billing.models import ClaimLine
from ccmops.billing.revenue import month_revenue
from ccmops.errors import InvalidInput
from ccmops.patients.models import QmbPeriod
from ccmops.patients.services import end_qmb, record_qmb


def shares(patient) -> dict[str, Decimal]:
    return dict(ClaimLine.objects.filter(patient=patient).values_list("code", "patient_share"))


def test_a_qmb_month_bills_no_patient_share_and_a_month_outside_the_period_does(month_world):
    twyla, month, ben = month_world
    close_month(practice=twyla.practice, month=month, by=ben)
    before = shares(twyla)
    assert set(before) == {"99490", "99439"} and all(v > 0 for v in before.values())  # 20 % coinsurance

    _m, mid = previous_month()
    first_day = mid.date().replace(day=1)
    period = record_qmb(patient=twyla, start=first_day - dt.timedelta(days=40), end=None, source="HETS 271", by=ben)
    close_month(practice=twyla.practice, month=month, by=ben)  # the facts changed: re-decided
    assert shares(twyla) == {"99490": Decimal("0.00"), "99439": Decimal("0.00")}
    assert month_revenue(twyla.practice, month).patient_share == Decimal("0.00")

    # Ended before the month began: the month bills the coinsurance again.
    end_qmb(period=period, end=first_day - dt.timedelta(days=1), by=ben)
    close_month(practice=twyla.practice, month=month, by=ben)
    assert shares(twyla) == before


def test_periods_are_checked(month_world):
    twyla, _month, ben = month_world
    day = dt.date(2026, 3, 1)
    with pytest.raises(InvalidInput, match="source"):
        record_qmb(patient=twyla, start=day, end=None, source=" ", by=ben)
    with pytest.raises(InvalidInput, match="before the start"):
        record_qmb(patient=twyla, start=day, end=day - dt.timedelta(days=1), source="state notice", by=ben)
    first = record_qmb(patient=twyla, start=day, end=dt.date(2026, 5, 31), source="state notice", by=ben)
    with pytest.raises(InvalidInput, match="overlaps the QMB period recorded from 2026-03-01 to 2026-05-31"):
        record_qmb(patient=twyla, start=dt.date(2026, 5, 1), end=None, source="HETS 271", by=ben)
    later = record_qmb(patient=twyla, start=dt.date(2026, 6, 1), end=None, source="HETS 271", by=ben)
    with pytest.raises(InvalidInput, match="already ended"):
        end_qmb(period=first, end=dt.date(2026, 4, 1), by=ben)
    with pytest.raises(InvalidInput, match="before the start"):
        end_qmb(period=later, end=dt.date(2026, 5, 1), by=ben)
    assert list(QmbPeriod.objects.values_list("start", "end")) == [
        (dt.date(2026, 3, 1), dt.date(2026, 5, 31)),
        (dt.date(2026, 6, 1), None),
    ]


def test_patient_page_and_api(month_world, login):
    twyla, _month, _ben = month_world
    web = login("ben.biller")
    page = web.get(f"/patients/{twyla.id}/").content.decode()
    assert "Medicare cost sharing: QMB" in page and "Record QMB" in page and "Not recorded as QMB" in page
    posted = web.post(
        f"/patients/{twyla.id}/qmb/", {"start": "2026-02-01", "end": "", "source": "HETS 271 of 2026-02-03"}
    )
    assert posted.status_code == 302
    bad = web.post(f"/patients/{twyla.id}/qmb/", {"start": "Feb 1", "source": "x"})
    assert bad.status_code == 422 and "start: expected a date YYYY-MM-DD" in bad.content.decode()
    (period,) = QmbPeriod.objects.all()
    ended = web.post(f"/qmb/{period.id}/end/", {"end": "2026-02-28"})
    assert ended.status_code == 302
    period.refresh_from_db()
    assert period.end == dt.date(2026, 2, 28)

    api = login("ben.biller")
    url = f"/api/patients/{twyla.id}/qmb"
    made = api.post(url, json.dumps({"start": "2026-03-01", "source": "HETS 271"}), "application/json")
    assert made.status_code == 201 and made.json()["end"] is None
    overlap = api.post(url, json.dumps({"start": "2026-03-15", "source": "x"}), "application/json")
    assert overlap.status_code == 422 and "overlaps" in overlap.content.decode()
    assert [q["start"] for q in api.get(url).json()] == ["2026-02-01", "2026-03-01"]
    assert login("rick.biller").get(url).status_code == 404  # another practice's biller
