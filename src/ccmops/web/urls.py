from django.contrib.auth import views as auth_views
from django.urls import path

from ccmops.interop import views as interop_views
from ccmops.patients import views as patient_views
from ccmops.web import views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(template_name="web/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("home/<str:role>/", views.role_home, name="role_home"),
    path("patients/", views.patient_list, name="patient_list"),
    path("patients/<int:patient_id>/", views.patient_detail, name="patient_detail"),
    path("practices/<int:practice_id>/operating-model/", views.operating_model, name="operating_model"),
    path("audit/", views.audit_log, name="audit_log"),
    path("practices/<int:practice_id>/imports/", interop_views.imports, name="imports"),
    path("practices/<int:practice_id>/imports/<int:run_id>/", interop_views.import_detail, name="import_detail"),
    path("imports/template.csv", interop_views.csv_template, name="csv_template"),
    path("practices/<int:practice_id>/candidates/", patient_views.candidates, name="candidates"),
    path("practices/<int:practice_id>/screen/", patient_views.screen, name="screen"),
    path(
        "practices/<int:practice_id>/candidates/<int:patient_id>/outreach/",
        patient_views.start_enrollment_outreach,
        name="start_outreach",
    ),
]
