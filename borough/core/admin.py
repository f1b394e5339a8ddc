from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from borough.core import lockout, second_factor
from borough.core.access import public
from borough.core.models import EmailChange, Feedback, StaffSignInLock, User
from borough.core.roles import may_enter
from borough.core.staff_sign_in import admin_sign_in


def _administrators_only(request) -> bool:
    user = request.user
    return bool(
        user.is_active
        and user.is_authenticated
        and user.is_staff_member
        and user.is_staff
        and (user.is_superuser or may_enter(user, "administration"))
    )


def _administrators_only_with_second_factor(request) -> bool:
    # StaffAreaMiddleware already sends a session owing its second factor to pass it; this is
    # the admin's own check, should the middleware ever be left out.
    return _administrators_only(request) and not (
        second_factor.needs_second_factor(request.user) and not second_factor.has_passed(request)
    )


admin.site.has_permission = _administrators_only_with_second_factor


class ReadOnlyAdmin(admin.ModelAdmin):
    # Anyone the admin site lets in (the Administrator role) may look; nobody edits here.
    def has_module_permission(self, request) -> bool:
        return self.admin_site.has_permission(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return self.admin_site.has_permission(request)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


# The admin's own sign-in form would sign people in on a password alone.
admin.site.login = public(admin_sign_in)
admin.site.site_header = "Borough administration"
admin.site.site_title = "Borough administration"


@admin.register(User)
class BoroughUserAdmin(UserAdmin):
    list_display = ("username", "email", "kind", "first_name", "last_name", "is_active")
    list_filter = ("kind", "is_active", "groups")
    fieldsets = (*UserAdmin.fieldsets, ("Kind of account", {"fields": ("kind",)}))
    actions = ["reset_second_factor", "unlock_sign_in"]

    @admin.action(description="Reset the second factor (they set up a new app at next sign-in)")
    def reset_second_factor(self, request, queryset):
        for user in queryset:
            second_factor.reset(user)
        self.message_user(
            request,
            f"Second factor reset for {queryset.count()} account(s): each sets up a new "
            "authenticator app at their next sign-in.",
        )

    @admin.action(description="Unlock staff sign-in")
    def unlock_sign_in(self, request, queryset):
        for user in queryset:
            lockout.unlock(user.get_username())
        self.message_user(request, f"Unlocked {queryset.count()} account(s).")


@admin.register(StaffSignInLock)
class StaffSignInLockAdmin(ReadOnlyAdmin):
    """Anyone the admin site lets in (the Administrator role) may see locks and unlock them."""

    list_display = ("username", "failures", "last_failure_at", "locked_at")
    list_filter = (("locked_at", admin.EmptyFieldListFilter),)
    search_fields = ("username",)
    readonly_fields = ("username", "failures", "last_failure_at", "locked_at")
    actions = ["unlock"]

    @admin.action(description="Unlock the selected usernames")
    def unlock(self, request, queryset):
        names = list(queryset.values_list("username", flat=True))
        for name in names:
            lockout.unlock(name)
        self.message_user(request, f"Unlocked {len(names)} username(s).")


@admin.register(Feedback)
class FeedbackAdmin(admin.ModelAdmin):
    list_display = ("created_at", "satisfaction", "page")
    list_filter = ("satisfaction",)
    readonly_fields = ("created_at", "satisfaction", "comments", "page")


@admin.register(EmailChange)
class EmailChangeAdmin(ReadOnlyAdmin):
    """Residents' changes of email address, for a resident who says they did not make one."""

    list_display = ("changed_at", "from_email", "to_email")
    search_fields = ("from_email", "to_email")
    readonly_fields = ("user", "changed_at", "from_email", "to_email")
