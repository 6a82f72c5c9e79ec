"""ccmops: Medicare Chronic Care Management programs, executed consistently."""

__version__ = "0.1.0"
