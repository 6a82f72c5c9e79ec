from django.contrib.auth import views as auth_views
from django.urls import path, register_converter

from ccmops.administration import views as staff_views
from ccmops.assessment import views as assessment_views
from ccmops.billing import month_list, payer_views
from ccmops.billing import views as billing_views
from ccmops.careplans import views as careplan_views
from ccmops.compliance.lockout import LockoutAuthenticationForm
from ccmops.documentation import views as note_views
from ccmops.enrollment import candidates as candidate_views
from ccmops.enrollment import views as enrollment_views
from ccmops.interop import views as interop_views
from ccmops.patients import views as patient_views
from ccmops.portal import pages as portal_pages
from ccmops.portal import team as portal_team
from ccmops.reporting import views as reporting_views
from ccmops.timetracking import views as time_views
from ccmops.web import account, ehr_views, health, inbox, jobs, messaging_views, mfa, views
from ccmops.web import engagements as engagement_views
from ccmops.worklist import views as worklist_views


class MonthConverter:
    """A month in an address: YYYY-MM, month 01–12 (anything else is no page: 404, never an error)."""

    regex = r"[0-9]{4}-(?:0[1-9]|1[0-2])"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(MonthConverter, "month")

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path(
        "login/",
        auth_views.LoginView.as_view(template_name="web/login.html", authentication_form=LockoutAuthenticationForm),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("mfa/verify/", mfa.verify, name="mfa-verify"),
    path("mfa/setup/", mfa.setup, name="mfa-setup"),
    path("home/<str:role>/", views.role_home, name="role_home"),
    path("patients/", views.patient_list, name="patient_list"),
    path("patients/<int:patient_id>/", views.patient_detail, name="patient_detail"),
    path("patients/<int:patient_id>/details/", views.patient_details, name="patient_details"),
    path("practices/<int:practice_id>/operating-model/", views.operating_model, name="operating_model"),
    path("practices/<int:practice_id>/engagements/", engagement_views.engage, name="engage_partner"),
    path("engagements/<int:engagement_id>/end/", engagement_views.end, name="end_engagement"),
    path("inbox/", inbox.inbox_page, name="inbox"),
    path("audit/", views.audit_log, name="audit_log"),
    path("audit/verify/", views.verify_audit_chain, name="verify_audit_chain"),
    path("jobs/<uuid:job_id>/", jobs.job_page, name="job_page"),
    path("jobs/<uuid:job_id>/download/", jobs.job_download, name="job_download"),
    path("practices/<int:practice_id>/jobs/", jobs.practice_jobs, name="practice_jobs"),
    path("worklist/", worklist_views.my_worklist, name="worklist"),
    path("workspace/", reporting_views.workspace_page, name="workspace"),
    path("workspace/consistency/", reporting_views.workspace_consistency, name="workspace_consistency"),
    path("staff/", staff_views.staff_page, name="staff"),
    path("staff/<int:user_id>/leave/", staff_views.staff_leave, name="staff_leave"),
    path("staff/<int:user_id>/return/", staff_views.staff_return, name="staff_return"),
    path("staff/<int:user_id>/password/", staff_views.staff_password, name="staff_password"),
    path("staff/<int:user_id>/mfa-code/", staff_views.staff_mfa_code, name="staff_mfa_code"),
    path("account/password/", account.password_change, name="password_change"),
    path("settings/", staff_views.settings_page, name="org_settings"),
    path("settings/policies/", staff_views.policies_change, name="policies_change"),
    path("settings/charges/", staff_views.charges_change, name="charges_change"),
    path("settings/ehr/", ehr_views.ehr_settings, name="ehr_settings"),
    path("settings/messaging/", messaging_views.messaging_settings, name="messaging_settings"),
    path("ehr/<int:practice_id>/jwks.json", ehr_views.ehr_jwks, name="ehr_jwks"),
    path("practices/<int:practice_id>/integration/", ehr_views.integration_health, name="integration_health"),
    path("practices/<int:practice_id>/integration/act/", ehr_views.integration_action, name="integration_action"),
    path("settings/practitioners/", staff_views.practitioner_add, name="practitioner_add"),
    path("settings/practitioners/<int:practitioner_id>/", staff_views.practitioner_change, name="practitioner_change"),
    path("workspace/staff/<int:membership_id>/hours/", reporting_views.committed_hours, name="committed_hours"),
    path("workspace/assign/", reporting_views.assign_patient, name="assign_patient"),
    path("workspace/balance/", reporting_views.balance_patients, name="balance_patients"),
    path("practices/<int:practice_id>/health/", reporting_views.health, name="health"),
    path("practices/<int:practice_id>/assessments/new/", assessment_views.new, name="assessment_new"),
    path("assessments/<int:assessment_id>/", assessment_views.detail, name="assessment_detail"),
    path("assessments/<int:assessment_id>/report.pdf", assessment_views.pdf, name="assessment_pdf"),
    path("assessments/<int:assessment_id>/apply/", assessment_views.apply, name="assessment_apply"),
    path("practices/<int:practice_id>/months/", month_list.months_page, name="month_page_default"),
    path("practices/<int:practice_id>/payer-files/", payer_views.payer_files, name="payer_files"),
    path("payer-files/<int:file_id>/", payer_views.payer_file, name="payer_file"),
    path("p/<str:token>/", portal_pages.entry, name="portal"),
    path("p/<str:token>/act/", portal_pages.act, name="portal_act"),
    path("p/<str:token>/sign-out/", portal_pages.sign_out, name="portal_sign_out"),
    path("patients/<int:patient_id>/reach/", portal_team.reach, name="reach"),
    path("practices/<int:practice_id>/texts/", portal_team.unmatched_texts, name="unmatched_texts"),
    path("hooks/twilio/<int:practice_id>/status/", portal_team.twilio_status, name="twilio_status"),
    path("hooks/twilio/<int:practice_id>/inbound/", portal_team.twilio_inbound, name="twilio_inbound"),
    path(
        "practices/<int:practice_id>/months/<month:month>/eligibility/",
        payer_views.eligibility_inquiry,
        name="eligibility_inquiry",
    ),
    path("eligibility-inquiries/<int:inquiry_id>.x12", payer_views.inquiry_file, name="inquiry_file"),
    path("practices/<int:practice_id>/receivables/", payer_views.receivables_page, name="receivables"),
    path("practices/<int:practice_id>/receivables/write-off/", payer_views.write_off_claim, name="write_off"),
    path("practices/<int:practice_id>/months/<month:month>/", billing_views.month_page, name="month_page"),
    path("practices/<int:practice_id>/months/<month:month>/close/", billing_views.run_close, name="run_close"),
    path("practices/<int:practice_id>/months/<month:month>/approve/", billing_views.approve, name="approve_close"),
    path("decisions/<int:decision_id>/override/", billing_views.decision_override, name="decision_override"),
    path("practices/<int:practice_id>/months/<month:month>/export/<str:kind>/", billing_views.download, name="export"),
    path("practices/<int:practice_id>/months/<month:month>/837p/", billing_views.produce_837p, name="produce_837p"),
    path("practices/<int:practice_id>/lookback/", billing_views.lookback_page, name="lookback"),
    path("practices/<int:practice_id>/months/<month:month>/packets.zip", billing_views.packets, name="packets"),
    path("practices/<int:practice_id>/months/<month:month>/remittance/", billing_views.remittance, name="remittance"),
    path(
        "practices/<int:practice_id>/months/<month:month>/known-services/",
        billing_views.known_services_upload,
        name="known_services_upload",
    ),
    path(
        "practices/<int:practice_id>/months/<month:month>/batches/<int:control_number>.x12",
        billing_views.batch_file,
        name="batch_file",
    ),
    path(
        "practices/<int:practice_id>/months/<month:month>/adjustments/resolve/",
        billing_views.resolve_adjustments,
        name="resolve_adjustments",
    ),
    path(
        "practices/<int:practice_id>/months/<month:month>/adjustments/resolve-unchanged/",
        billing_views.resolve_unchanged_adjustments,
        name="resolve_unchanged_adjustments",
    ),
    path("patients/<int:patient_id>/packets/<month:month>/", billing_views.packet, name="packet"),
    path("patients/<int:patient_id>/calls/", worklist_views.log_call, name="log_call"),
    path("patients/<int:patient_id>/transitions/", worklist_views.new_transition, name="new_transition"),
    path("patients/<int:patient_id>/windows/", worklist_views.add_window, name="add_window"),
    path("tasks/<int:task_id>/done/", worklist_views.task_done, name="task_done"),
    path("patients/<int:patient_id>/time/", time_views.manual_entry, name="manual_entry"),
    path("time-entries/<int:entry_id>/void/", time_views.void, name="void_entry"),
    path("time-entries/<int:entry_id>/restore/", time_views.restore, name="restore_entry"),
    path("patients/<int:patient_id>/notes/new/", note_views.note_new, name="note_new"),
    path(
        "patients/<int:patient_id>/assessments/<slug:instrument>/",
        note_views.assessment,
        name="assessment",
    ),
    path(
        "patients/<int:patient_id>/medications/reconcile/",
        note_views.reconcile_medications,
        name="reconcile_medications",
    ),
    path("notes/<int:note_id>/addenda/", note_views.addendum, name="addendum"),
    path("notes/<int:note_id>/edit/", note_views.note_edit, name="note_edit"),
    path("practices/<int:practice_id>/imports/", interop_views.imports, name="imports"),
    path("practices/<int:practice_id>/export/fhir/", interop_views.fhir_export, name="fhir_export"),
    path("practices/<int:practice_id>/imports/<int:run_id>/", interop_views.import_detail, name="import_detail"),
    path("imports/template.csv", interop_views.csv_template, name="csv_template"),
    path("practices/<int:practice_id>/candidates/", candidate_views.candidates, name="candidates"),
    path("patients/<int:patient_id>/qmb/", patient_views.qmb_record, name="qmb_record"),
    path("qmb/<int:period_id>/end/", patient_views.qmb_end, name="qmb_end"),
    path("patients/<int:patient_id>/coverage/", patient_views.coverage_record, name="coverage_record"),
    path("coverage/<int:record_id>/end/", patient_views.coverage_end, name="coverage_end"),
    path("coverage/<int:record_id>/withdraw/", patient_views.coverage_withdraw, name="coverage_withdraw"),
    path("patients/<int:patient_id>/death/", patient_views.death_record, name="death_record"),
    path("conditions/<int:condition_id>/confirm/", patient_views.condition_confirm, name="condition_confirm"),
    path("patients/<int:patient_id>/known-services/", billing_views.known_service_record, name="known_service_record"),
    path(
        "known-services/<int:service_id>/withdraw/",
        billing_views.known_service_withdraw,
        name="known_service_withdraw",
    ),
    path("known-services/<int:service_id>/release/", billing_views.known_service_release, name="known_service_release"),
    path("practices/<int:practice_id>/screen/", candidate_views.screen, name="screen"),
    path("patients/<int:patient_id>/fhir.json", interop_views.patient_fhir, name="patient_fhir"),
    path("patients/<int:patient_id>/outreach/", enrollment_views.outreach_attempt, name="outreach_attempt"),
    path("patients/<int:patient_id>/enrollment/", enrollment_views.enrollment_status, name="enrollment_status"),
    path("patients/<int:patient_id>/consents/new/", enrollment_views.consent_new, name="consent_new"),
    path("patients/<int:patient_id>/visits/new/", enrollment_views.visit_new, name="visit_new"),
    path("consents/<int:consent_id>/", enrollment_views.consent_detail, name="consent_detail"),
    path("consents/<int:consent_id>/revoke/", enrollment_views.consent_revoke, name="consent_revoke"),
    path("practices/<int:practice_id>/enrollment/", enrollment_views.funnel, name="funnel"),
    path("patients/<int:patient_id>/care-plans/", careplan_views.careplan_new, name="careplan_new"),
    path("care-plans/<int:plan_id>/", careplan_views.careplan_detail, name="careplan_detail"),
    path("care-plans/<int:plan_id>/edit/", careplan_views.careplan_edit, name="careplan_edit"),
    path("care-plans/<int:plan_id>/review/", careplan_views.careplan_review, name="careplan_review"),
    path("care-plans/<int:plan_id>/approve/", careplan_views.careplan_approve, name="careplan_approve"),
    path("care-plans/<int:plan_id>/share/", careplan_views.careplan_share, name="careplan_share"),
    path(
        "practices/<int:practice_id>/candidates/<int:patient_id>/outreach/",
        candidate_views.start_enrollment_outreach,
        name="start_outreach",
    ),
]
