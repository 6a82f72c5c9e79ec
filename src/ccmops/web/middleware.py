"""Request middleware: display time zone, and the mapping of domain errors to HTTP responses."""

from __future__ import annotations

import logging
import sys
import time
import zoneinfo

from django.conf import settings
from django.contrib.auth import logout
from django.db import InterfaceError, OperationalError, connections
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.utils import timezone

from ccmops.errors import CcmopsError
from ccmops.web.roles import display_time_zone

logger = logging.getLogger("ccmops")


class PracticeTimeZoneMiddleware:
    """Times are stored in UTC and shown in the user's practice's time zone."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        name = settings.CCMOPS_DISPLAY_TIME_ZONE
        if request.user.is_authenticated:
            name = display_time_zone(request.user) or name
        timezone.activate(zoneinfo.ZoneInfo(name))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


class DomainErrorMiddleware:
    """Maps CcmopsError to an HTTP status with a page that says what went wrong (the one mapping point)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code == 404 and settings.DEBUG and _debug_page(response):
            # Debug mode (the demo runs in it) shows Django's technical 404 — its URL list and settings — for an
            # address that matches no page; a person sees the product's own page instead.
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": NO_SUCH_PAGE}, status=404)
            html = render_to_string("web/error.html", {"status": 404, "message": NO_SUCH_PAGE}, request=request)
            return HttpResponse(html, status=404)
        return response

    def process_exception(self, request, exception):
        if isinstance(exception, (OperationalError, InterfaceError)):
            return database_unavailable(request, exception)
        if isinstance(exception, OverflowError):  # an id in the address past 64 bits: nothing can have it
            status, message = 404, NUMBER_TOO_LARGE
        elif isinstance(exception, CcmopsError):
            status, message = exception.http_status, str(exception)
        else:
            return None
        html = render_to_string("web/error.html", {"status": status, "message": message}, request=request)
        return HttpResponse(html, status=status)


NO_SUCH_PAGE = "There is no page at this address. Check the link, or start again from your home page."


def _debug_page(response) -> bool:
    return response.get("Content-Type", "").startswith("text/html") and b'content="NONE,NOARCHIVE"' in getattr(
        response, "content", b""
    )


NUMBER_TOO_LARGE = "A number in the request is larger than any record's id or any stored value; nothing has it."

DATABASE_DOWN = (
    "The database is not reachable right now. Nothing from this request was saved; try again in a moment "
    "(a running timer keeps counting on the server and is safe)."
)


def database_unavailable(request, exception) -> HttpResponse:
    """503 with a message a person can act on, when the database went away (restart, network, failover). The
    connection is dropped, so the next request connects afresh and works as soon as the database is back."""
    logger.error("database unavailable: %s", exception)
    connections.close_all()
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": DATABASE_DOWN}, status=503)
    else:
        response = HttpResponse(
            render_to_string("web/error.html", {"status": 503, "message": DATABASE_DOWN}), status=503
        )
    response["Retry-After"] = "5"
    return response


def server_error(request):
    """handler500: a database outage seen outside a view (session or user lookup) still gets its clear 503."""
    exc = sys.exc_info()[1]
    if isinstance(exc, (OperationalError, InterfaceError)):
        return database_unavailable(request, exc)
    html = render_to_string("web/error.html", {"status": 500, "message": "Something went wrong on our side."})
    return HttpResponse(html, status=500)


class IdleLogoutMiddleware:
    """Automatic logoff after CCMOPS_SESSION_IDLE_MINUTES without activity. Timer heartbeats and the timer poll
    keep the timer honest but are not activity: an unattended tab signs out (the timer stays on the server)."""

    PASSIVE = ("/heartbeat", "/api/timer")
    # Activity is recorded to the half-minute: a request within 30 s of the recorded time leaves the session
    # unwritten (one UPDATE and commit fewer on most requests); the sign-out comes at most 30 s later for it.
    STEP = 30

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = int(time.time())
            recorded = request.session.get("last_activity")
            last = now if recorded is None else recorded
            if now - last > settings.CCMOPS_SESSION_IDLE_MINUTES * 60:
                logout(request)
                if request.path.startswith("/api/"):
                    return HttpResponse(
                        '{"detail": "Signed out after inactivity."}', status=401, content_type="application/json"
                    )
                return redirect(f"{settings.LOGIN_URL_PATH}?next={request.path}&idle=1")
            if not request.path.endswith(self.PASSIVE) and (recorded is None or now - recorded >= self.STEP):
                request.session["last_activity"] = now
        return self.get_response(request)


CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",  # no inline script or eval: page behaviour lives in static files
        "style-src 'self' 'unsafe-inline'",  # style attributes in templates and htmx's indicator style
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)


class ContentSecurityPolicyMiddleware:
    """Sends the Content-Security-Policy on every response (debug included, so the browser tests see it)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        return response
