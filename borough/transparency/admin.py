"""The data-use log in the Django admin: read-only, and only for administrators who also hold the
data protection officer's role (the log says whose data each service used)."""

from django.contrib import admin

from borough.core.roles import may_enter
from borough.places.admin import ReadOnlyAdmin
from borough.transparency.models import DataUseEvent


@admin.register(DataUseEvent)
class DataUseEventAdmin(ReadOnlyAdmin):
    list_display = [
        "occurred_at",
        "subject_resident_id",
        "actor_kind",
        "actor_label",
        "actor_user",
        "service",
        "purpose",
        "action",
        "outcome",
    ]
    list_filter = ["service", "actor_kind", "action", "purpose"]
    search_fields = ["=subject_resident_id", "=reference"]
    list_select_related = ["actor_user"]
    show_full_result_count = False
    actions = None

    def _may_see(self, request) -> bool:
        return self.admin_site.has_permission(request) and may_enter(request.user, "transparency")

    def has_module_permission(self, request) -> bool:
        return self._may_see(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return self._may_see(request)
