"""What the patients layer announces to the layers above it (which connect receivers in their AppConfig.ready):
it never calls up into them."""

from __future__ import annotations

from django.dispatch import Signal

# A visit was recorded by hand (patient, visit, by): an initiating visit may complete a patient's enrollment
# (enrollment.activation activates, in the same transaction).
visit_recorded = Signal()
