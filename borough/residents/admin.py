"""Source datasets, their loads and their records in the Django admin.

Datasets are declared in TOML (``datasets/*.toml``) and records change only through a load
(``services.load_dataset``), so every page here is read-only: the declaration and the council's
export stay the single source of truth, and every change has a load behind it.
"""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from borough.places.admin import ReadOnlyAdmin
from borough.residents.models import DatasetLoad, SourceDataset, SourceRecord
from borough.residents.results import set_aside_csv
from borough.transparency.models import Action, ActorKind
from borough.transparency.services import record_data_use


@admin.register(SourceDataset)
class SourceDatasetAdmin(ReadOnlyAdmin):
    list_display = ["code", "title", "owner", "proves_list", "declared", "synced_at"]
    list_filter = ["declared"]
    search_fields = ["code", "title", "owner"]

    @admin.display(description="May prove")
    def proves_list(self, obj: SourceDataset) -> str:
        return ", ".join(obj.proves)


@admin.register(DatasetLoad)
class DatasetLoadAdmin(ReadOnlyAdmin):
    list_display = [
        "started_at",
        "dataset",
        "file_name",
        "status",
        "records",
        "created",
        "updated",
        "unchanged",
        "ended",
        "uprn_unmatched",
        "error_count",
        "warning_count",
        "loaded_by",
        "via",
    ]
    list_filter = ["status", "dataset", "via"]
    search_fields = ["file_name", "sha256"]
    date_hierarchy = "started_at"
    exclude = ["errors", "warnings", "unmatched_addresses"]
    readonly_fields = [
        "problems_found",
        "warnings_found",
        "addresses_not_matched",
        "rows_set_aside",
    ]

    @staticmethod
    def _list(items: list[dict], keys: tuple[str, ...]) -> str:
        if not items:
            return "None"
        return format_html_join(
            "\n", "<div>{}</div>", ((" · ".join(str(i.get(k) or "") for k in keys),) for i in items)
        )

    @admin.display(description="Problems (the first 50, at most 10 a column)")
    def problems_found(self, obj: DatasetLoad) -> str:
        return self._list(obj.errors, ("row", "column", "message"))

    @admin.display(description="Warnings (the first 50, at most 10 a column)")
    def warnings_found(self, obj: DatasetLoad) -> str:
        return self._list(obj.warnings, ("row", "column", "message"))

    @admin.display(description="Rows set aside (with problems, not loaded)")
    def rows_set_aside(self, obj: DatasetLoad) -> str:
        if not obj.set_aside_rows:
            return "None"
        url = reverse("admin:residents_datasetload_set_aside", args=[obj.pk])
        return format_html(
            '{} rows: <a href="{}" download>download the report (CSV)</a><br>{}',
            obj.set_aside_rows,
            url,
            self._list(obj.set_aside, ("row", "column", "message")),
        )

    def get_urls(self):
        own = [
            path(
                "<int:pk>/set-aside.csv",
                self.admin_site.admin_view(self.set_aside_report),
                name="residents_datasetload_set_aside",
            )
        ]
        return own + super().get_urls()

    def set_aside_report(self, request, pk: int) -> HttpResponse:
        load = get_object_or_404(DatasetLoad, pk=pk)
        if not self.has_view_permission(request, load):
            raise PermissionDenied
        response = HttpResponse(set_aside_csv(load), content_type="text/csv; charset=utf-8")
        name = f"{load.dataset.code}-load-{load.pk}-set-aside.csv"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response

    @admin.display(description="Addresses that matched no UPRN")
    def addresses_not_matched(self, obj: DatasetLoad) -> str:
        return self._list(
            obj.unmatched_addresses, ("row", "record_ref", "address", "postcode", "reason")
        )


@admin.register(SourceRecord)
class SourceRecordAdmin(ReadOnlyAdmin):
    list_display = [
        "record_ref",
        "dataset",
        "first_name_std",
        "surname_std",
        "date_of_birth",
        "postcode",
        "uprn",
        "uprn_method",
        "ended_at",
    ]
    list_filter = ["dataset", "uprn_method", ("ended_at", admin.EmptyFieldListFilter)]
    search_fields = ["=record_ref", "surname_std", "=postcode", "=uprn"]
    list_select_related = ["dataset"]
    show_full_result_count = False
    raw_id_fields = ["first_seen_load", "last_seen_load"]

    # Reading residents' records here is a staff view like any other: recorded against the
    # residents the records belong to (a record the last link did not place belongs to nobody
    # yet, and is not recorded).
    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = (getattr(response, "context_data", None) or {}).get("cl")
        if changelist is not None:
            _record_admin_view(request, changelist.result_list)
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        record = (getattr(response, "context_data", None) or {}).get("original")
        if record is not None:
            _record_admin_view(request, [record])
        return response


def _record_admin_view(request, records) -> None:
    from borough.residents.index import resident_ids_of

    unique_ids = [f"{record.dataset.code}:{record.record_ref}" for record in records]
    try:
        residents = sorted(set(resident_ids_of(unique_ids).values()))
    except ValueError:  # never linked
        return
    if residents:
        record_data_use(
            subject_resident_ids=residents,
            actor=request.user,
            actor_kind=ActorKind.STAFF,
            purpose="staff_view_records",
            service="residents",
            action=Action.VIEWED_RECORDS,
            datasets=sorted({record.dataset.code for record in records}),
            reference="admin-source-records",
        )
