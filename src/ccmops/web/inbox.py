"""The inbox page, the header's count, and the inbox on each home page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.shortcuts import render

from ccmops.patients.scope import request_scope
from ccmops.reporting.inbox import inbox

COUNT_SECONDS = 60  # the header's count is kept this long per user (the page itself is always fresh)


@login_required
def inbox_page(request):
    items = inbox(request_scope(request), request.user)
    cache.set(_key(request.user), len(items), COUNT_SECONDS)
    return render(request, "web/inbox.html", {"items": items})


def _key(user) -> str:
    return f"ccmops:inbox-count:{user.pk}"


def inbox_count(request) -> int:
    count = cache.get(_key(request.user))
    if count is None:
        count = len(inbox(request_scope(request), request.user))
        cache.set(_key(request.user), count, COUNT_SECONDS)
    return count
