from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from borough.core.models import Feedback, User
from borough.core.roles import may_enter


def _administrators_only(request) -> bool:
    user = request.user
    return bool(
        user.is_active
        and user.is_authenticated
        and user.is_staff_member
        and user.is_staff
        and (user.is_superuser or may_enter(user, "administration"))
    )


admin.site.has_permission = _administrators_only
admin.site.site_header = "Borough administration"
admin.site.site_title = "Borough administration"


@admin.register(User)
class BoroughUserAdmin(UserAdmin):
    list_display = ("username", "email", "kind", "first_name", "last_name", "is_active")
    list_filter = ("kind", "is_active", "groups")
    fieldsets = (*UserAdmin.fieldsets, ("Kind of account", {"fields": ("kind",)}))


@admin.register(Feedback)
class FeedbackAdmin(admin.ModelAdmin):
    list_display = ("created_at", "satisfaction", "page")
    list_filter = ("satisfaction",)
    readonly_fields = ("created_at", "satisfaction", "comments", "page")
