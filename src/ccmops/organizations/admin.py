"""Admin site for configuration: organizations, staff, engagements. The matrix is read-only here; new
versions are recorded on the practice's operating-model page (or the API) so that history is kept.

Every change made here is audited like the same change made on the Settings and Staff pages: in the chain of
the organization it concerns, with the fields changed and their new values (never a password)."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from ccmops.compliance.audit import record_audit
from ccmops.compliance.models import AuditAction
from ccmops.organizations.models import (
    Engagement,
    MatrixAssignment,
    Membership,
    Organization,
    Practitioner,
    ResponsibilityMatrix,
    User,
)

SECRET_FIELDS = frozenset({"password", "totp_secret", "totp_last_step"})


def _changes(form, obj) -> dict:
    return {f: (str(getattr(obj, f, "")) if f not in SECRET_FIELDS else "(changed)") for f in form.changed_data}


def _chain(obj) -> int | None:
    """The organization whose chain records a change to `obj` (chain 0 for a user, who may work for several)."""
    if isinstance(obj, Organization):
        return obj.pk
    for attr in ("practice_id", "organization_id"):
        if getattr(obj, attr, None):
            return getattr(obj, attr)
    return None


def audit_admin(request, obj, action: AuditAction, detail: dict) -> None:
    record_audit(
        action=action,
        user=request.user,
        practice_id=_chain(obj),
        obj=obj,
        object_type=f"admin:{obj._meta.model_name}",
        detail={"via": "admin", **detail},
    )


class AuditedAdmin(admin.ModelAdmin):
    """Records each save and delete in the audit chain of the organization concerned."""

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change or form.changed_data:
            audit_admin(request, obj, AuditAction.UPDATE if change else AuditAction.CREATE, _changes(form, obj))

    def delete_model(self, request, obj):
        audit_admin(request, obj, AuditAction.DELETE, {"deleted": str(obj)})
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            audit_admin(request, obj, AuditAction.DELETE, {"deleted": str(obj)})
        super().delete_queryset(request, queryset)

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        for obj in formset.new_objects:
            audit_admin(request, obj, AuditAction.CREATE, {"of": str(form.instance), **_fields(obj)})
        for obj, changed in formset.changed_objects:
            audit_admin(request, obj, AuditAction.UPDATE, {"of": str(form.instance), "changed": changed})
        for obj in formset.deleted_objects:
            audit_admin(request, obj, AuditAction.DELETE, {"of": str(form.instance), "deleted": str(obj)})


def _fields(obj) -> dict:
    return {
        f.attname: str(getattr(obj, f.attname)) for f in obj._meta.concrete_fields if f.attname not in SECRET_FIELDS
    }


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0


@admin.register(User)
class UserAdmin(AuditedAdmin, BaseUserAdmin):
    inlines = [MembershipInline]
    list_display = ("username", "first_name", "last_name", "email", "is_active")
    fieldsets = (*BaseUserAdmin.fieldsets, ("ccmops", {"fields": ("title",)}))

    def user_change_password(self, request, id, form_url=""):
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302:
            audit_admin(request, User.objects.get(pk=id), AuditAction.UPDATE, {"password": "(changed)"})
        return response


@admin.register(Organization)
class OrganizationAdmin(AuditedAdmin):
    list_display = ("name", "kind", "npi", "time_zone", "place_of_service")
    list_filter = ("kind",)
    search_fields = ("name", "npi")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Practitioner)
class PractitionerAdmin(AuditedAdmin):
    list_display = ("last_name", "first_name", "credential", "npi", "practice", "active")
    list_filter = ("practice", "credential")


@admin.register(Engagement)
class EngagementAdmin(AuditedAdmin):
    list_display = ("practice", "partner", "starts_on", "ends_on")


class AssignmentInline(admin.TabularInline):
    model = MatrixAssignment
    extra = 0
    can_delete = False
    readonly_fields = ("function", "owner")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ResponsibilityMatrix)
class ResponsibilityMatrixAdmin(admin.ModelAdmin):
    list_display = ("practice", "version", "effective_from", "preset", "partner", "created_by", "created_at")
    list_filter = ("practice",)
    inlines = [AssignmentInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
