"""The gazetteer in the Django admin: searchable, read-only.

Properties change only through an import (``services.import_gazetteer``), so that the
council's LLPG stays the single source of truth and every change has an import record.
"""

from django.contrib import admin

from borough.core.admin import ReadOnlyAdmin
from borough.places.models import GazetteerImport, Property
from borough.places.postcodes import InvalidPostcode, normalise_postcode


@admin.register(Property)
class PropertyAdmin(ReadOnlyAdmin):
    list_display = [
        "uprn",
        "address",
        "postcode",
        "ward_name",
        "classification",
        "is_residential",
        "car_free",
        "in_latest_export",
    ]
    list_filter = ["is_residential", "car_free", "in_latest_export", "ward_name"]
    search_fields = ["=uprn", "postcode", "street", "building_name", "sub_building"]
    show_full_result_count = False
    list_select_related = False

    @admin.display(description="Address")
    def address(self, obj: Property) -> str:
        return obj.single_line(include_postcode=False)

    def get_search_results(self, request, queryset, search_term):
        # "e8 1dy" and "E81DY" both find the stored "E8 1DY".
        try:
            postcode = normalise_postcode(search_term)
        except InvalidPostcode:
            return super().get_search_results(request, queryset, search_term)
        return queryset.filter(postcode=postcode), False


@admin.register(GazetteerImport)
class GazetteerImportAdmin(ReadOnlyAdmin):
    list_display = [
        "started_at",
        "file_name",
        "status",
        "rows",
        "created",
        "updated",
        "unchanged",
        "left_export",
        "error_count",
        "imported_by",
        "via",
    ]
    list_filter = ["status", "via"]
    search_fields = ["file_name", "sha256"]
    date_hierarchy = "started_at"
