"""Bad input at the edge answers 4xx, never 500 (security review, item 6): a body over the limit (413), a
multipart body without its boundary, and text no database can store — a NUL (PostgreSQL refuses it) or half of a
UTF-16 surrogate pair — in the address, a form or a JSON body (400, naming the field)."""

from __future__ import annotations

import json

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string


def _bad_text(value: str) -> bool:
    return "\x00" in value or any(0xD800 <= ord(c) <= 0xDFFF for c in value)


def _first_bad(data, path: str = "$") -> str | None:
    if isinstance(data, str):
        return path if _bad_text(data) else None
    if isinstance(data, dict):
        for k, v in data.items():
            if isinstance(k, str) and _bad_text(k):
                return f"{path}.{k!r}"
            found = _first_bad(v, f"{path}.{k}")
            if found:
                return found
    if isinstance(data, list):
        for i, v in enumerate(data):
            found = _first_bad(v, f"{path}[{i}]")
            if found:
                return found
    return None


def _refuse(request, status: int, message: str) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=status)
    html = render_to_string("web/error.html", {"status": status, "message": message}, request=request)
    return HttpResponse(html, status=status)


BAD_TEXT = "contains a NUL character or half of a surrogate pair, which cannot be stored; send plain text"


class InputGuardMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        refused = self._check(request)
        return refused or self.get_response(request)

    def _check(self, request) -> HttpResponse | None:
        ctype = request.META.get("CONTENT_TYPE", "")
        multipart = ctype.startswith("multipart/")
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return _refuse(request, 400, "Content-Length is not a number")
        if not multipart and length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 1024
            return _refuse(
                request, 413, f"The request body is {length // 1024} KB; at most {limit} KB (a file goes as an upload)"
            )
        if multipart and "boundary=" not in ctype:
            return _refuse(
                request, 400, "A multipart body needs its boundary (Content-Type: multipart/form-data; boundary=…)"
            )
        if _bad_text(request.path):
            return _refuse(request, 400, f"The address {BAD_TEXT}")
        for name, values in request.GET.lists():
            if _bad_text(name) or any(_bad_text(v) for v in values):
                return _refuse(request, 400, f"{name}: {BAD_TEXT}")
        if request.method in ("POST", "PUT", "PATCH"):
            if ctype.startswith("application/json"):
                try:
                    data = json.loads(request.body or b"null")
                except (ValueError, UnicodeDecodeError):
                    return None  # the API names what is wrong with the JSON itself
                bad = _first_bad(data)
                if bad:
                    return _refuse(request, 400, f"{bad}: {BAD_TEXT}")
            elif ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
                for name, values in request.POST.lists():
                    if _bad_text(name) or any(_bad_text(v) for v in values):
                        return _refuse(request, 400, f"{name}: {BAD_TEXT}")
        return None
