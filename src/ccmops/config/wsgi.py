import gc
import os
from pathlib import Path

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ccmops.config.settings")
application = get_wsgi_application()


def _warm() -> None:
    """Load at boot what every worker would otherwise load on its first requests: the URL map (which imports
    every view and the API, about a second and 70,000 objects), ccmops's templates, compiled, the ICD-10-CM
    code set (about 50 ms) and the chronic-condition table (some 10,000 objects)."""
    # imported here, after get_wsgi_application() has set Django up
    from django.template.loader import get_template
    from django.urls import get_resolver

    from ccmops.rules.conditions import icd10_conditions, icd10_is_valid

    get_resolver().url_patterns  # noqa: B018 (a cached property: reading it loads the URL map)
    package = Path(__file__).resolve().parent.parent
    for folder in sorted(package.glob("*/templates")):
        for template in sorted(folder.rglob("*.html")):
            get_template(template.relative_to(folder).as_posix())
    icd10_is_valid("I10")
    icd10_conditions("I10")


_warm()

# What the worker loaded at boot lives as long as the worker: set it aside from the cyclic garbage collector,
# whose full collections otherwise walk all of it on some request (figures in bench/README.md).
gc.collect()
gc.freeze()
