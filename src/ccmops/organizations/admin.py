"""Admin site for configuration: organizations, staff, engagements. The matrix is read-only here; new
versions are recorded on the practice's operating-model page (or the API) so that history is kept."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from ccmops.organizations.models import (
    Engagement,
    MatrixAssignment,
    Membership,
    Organization,
    Practitioner,
    ResponsibilityMatrix,
    User,
)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    inlines = [MembershipInline]
    list_display = ("username", "first_name", "last_name", "email", "is_active")
    fieldsets = (*BaseUserAdmin.fieldsets, ("ccmops", {"fields": ("title",)}))


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "npi", "time_zone", "place_of_service")
    list_filter = ("kind",)
    search_fields = ("name", "npi")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Practitioner)
class PractitionerAdmin(admin.ModelAdmin):
    list_display = ("last_name", "first_name", "credential", "npi", "practice", "active")
    list_filter = ("practice", "credential")


@admin.register(Engagement)
class EngagementAdmin(admin.ModelAdmin):
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
