"""The pure rules core: Medicare rules, eligibility, calendar-month math and code tables.

Nothing here may import Django, touch a database, read the clock or do I/O beyond reading packaged data
files; an import-linter contract enforces it.
"""
