"""The one small tree of domain exceptions.

`ccmops.web.middleware` maps them to HTTP responses for pages, the API's exception handlers (`ccmops.api.router`)
to JSON answers, and `ccmops.cli` to exit codes.
"""


class CcmopsError(Exception):
    """Base of every error ccmops raises on purpose."""

    exit_code = 1
    http_status = 400


class ConfigurationError(CcmopsError):
    """A setting is missing or malformed."""

    exit_code = 78


class InvalidInput(CcmopsError):
    """Input failed validation; the message names the field, line or path and what was expected."""

    exit_code = 2
    http_status = 422


# One answer for a record that does not exist and for one outside the caller's practices (security review, item
# 8): the message never tells them apart, nor names the patient or practice a record belongs to.
NOT_FOUND = "Not found, or not in your practices."


class NotFound(CcmopsError):
    """The object does not exist, or is outside the caller's scope (we do not say which)."""

    http_status = 404


class PermissionDenied(CcmopsError):
    """The caller may see the object but not perform this function on it."""

    http_status = 403


class Conflict(CcmopsError):
    """The change conflicts with the current state (e.g. a version already exists)."""

    http_status = 409
