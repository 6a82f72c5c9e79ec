"""HTML templates rendered to PDF (xhtml2pdf) for printable records."""

from __future__ import annotations

import io

from django.http import HttpResponse
from django.template.loader import render_to_string
from xhtml2pdf import pisa


def pdf_response(template: str, context: dict, filename: str, request=None) -> HttpResponse:
    html = render_to_string(template, {**context, "pdf": True}, request=request)
    out = io.BytesIO()
    result = pisa.CreatePDF(html, dest=out, encoding="utf-8")
    if result.err:
        raise RuntimeError(f"PDF rendering failed for {template}")
    response = HttpResponse(out.getvalue(), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response
