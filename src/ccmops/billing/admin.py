"""The system administrator's Fee schedules page: the CMS fee files loaded for each rule year, and a form to load
one (R-2027-3). A loaded file is never changed or deleted here: a correction is a newer file."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path

from ccmops.billing.fees import fee_rows, load_fee_file
from ccmops.billing.models import FeeScheduleRelease
from ccmops.errors import InvalidInput


class LoadFeesForm(forms.Form):
    file = forms.FileField(label="PPRRVU file (CMS's CSV)")
    year = forms.IntegerField(min_value=2025, max_value=2100, label="Rule year")
    qp_conversion_factor = forms.DecimalField(
        required=False, max_digits=9, decimal_places=4, label="QP conversion factor (optional)"
    )


@admin.register(FeeScheduleRelease)
class FeeScheduleReleaseAdmin(admin.ModelAdmin):
    list_display = ("year", "source", "conversion_factor", "conversion_factor_qp", "loaded_at", "loaded_by")
    readonly_fields = [f.name for f in FeeScheduleRelease._meta.fields]
    change_list_template = "admin/billing/fee_schedules.html"

    def has_add_permission(self, request) -> bool:
        return False  # loaded through the form above the list, which validates the whole file

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_urls(self):
        return [
            path("load/", self.admin_site.admin_view(self.load_view), name="billing_fees_load"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {**(extra_context or {}), "years": fee_rows(), "form": LoadFeesForm()})

    def load_view(self, request):
        form = LoadFeesForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                text = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError:
                form.add_error("file", "expected a CSV file in UTF-8 (CMS's PPRRVU CSV)")
            else:
                try:
                    release = load_fee_file(
                        text=text,
                        name=upload.name,
                        year=form.cleaned_data["year"],
                        qp_conversion_factor=form.cleaned_data["qp_conversion_factor"] or None,
                        by=request.user,
                    )
                except InvalidInput as exc:
                    form.add_error(None, str(exc))
                else:
                    messages.success(
                        request,
                        f"CY{release.year}: {release.source} loaded ({len(release.nonfacility_rvu)} codes, CF "
                        f"{release.conversion_factor:.4f}). Open {release.year} months are priced with it at their "
                        "next evaluation; closed months keep their amounts.",
                    )
                    return redirect("admin:billing_feeschedulerelease_changelist")
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "title": "Load a fee schedule",
        }
        return TemplateResponse(request, "admin/billing/load_fees.html", context)
