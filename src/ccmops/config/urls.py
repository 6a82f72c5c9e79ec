from django.contrib import admin
from django.urls import include, path

from ccmops.api.router import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("", include("ccmops.web.urls")),
]

handler500 = "ccmops.web.middleware.server_error"
