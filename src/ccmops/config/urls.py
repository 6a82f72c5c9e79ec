from urllib.parse import quote

from django.contrib import admin
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import include, path
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.generic import RedirectView

from ccmops.api.router import api


def admin_sign_in(request):
    """The administrator's site has no sign-in of its own: it uses ccmops's, with the same lockout and the second
    factor a system administrator always needs (docs/security.md)."""
    target = request.GET.get("next", "/admin/")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/admin/"
    return redirect(f"/login/?next={quote(target)}")


urlpatterns = [
    path("admin/login/", admin_sign_in, name="admin_sign_in"),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    # browsers ask for /favicon.ico whatever the page links to
    path("favicon.ico", RedirectView.as_view(url=static("ccmops/favicon.svg"), permanent=True)),
    path("", include("ccmops.web.urls")),
]

handler500 = "ccmops.web.middleware.server_error"
