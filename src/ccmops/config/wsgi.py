import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ccmops.config.settings")
application = get_wsgi_application()

# Load the ICD-10-CM code set (about 50 ms) when a worker boots, not during a care manager's first request.
from ccmops.rules.conditions import icd10_is_valid  # noqa: E402

icd10_is_valid("I10")
