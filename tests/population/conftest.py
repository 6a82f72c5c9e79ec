"""Population tests' practice: an empty one to import into."""

from __future__ import annotations

import pytest

from ccmops.organizations.models import Organization


@pytest.fixture
def practice(db):
    return Organization.objects.create(
        slug="lakeside", kind="practice", name="Lakeside Clinic", time_zone="America/Chicago"
    )
