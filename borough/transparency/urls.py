from django.urls import path, register_converter

from borough.transparency import (
    export_views,
    oversight_views,
    proof_views,
    question_views,
    resident_views,
    restriction_views,
    sar_views,
    tiles,
    tlog_views,
    views,
)


class TileIndexConverter:
    """A tile's ``N`` as C2SP tlog-tiles writes it: ``x001/x234/067``."""

    regex = tiles.INDEX.pattern

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(TileIndexConverter, "tileindex")

app_name = "transparency"

urlpatterns = [
    path("how-we-use-your-data", resident_views.start, name="start"),
    path("how-we-use-your-data/timeline", resident_views.timeline, name="timeline"),
    path("how-we-use-your-data/timeline/<int:event_id>", resident_views.entry_page, name="entry"),
    path(
        "how-we-use-your-data/timeline/<int:event_id>/question",
        resident_views.question,
        name="question",
    ),
    path("how-we-use-your-data/questions", resident_views.questions, name="questions"),
    path("how-we-use-your-data/datasets", resident_views.datasets, name="datasets"),
    path("how-we-use-your-data/datasets/<slug:code>", resident_views.dataset, name="dataset"),
    path("staff/data-use", views.staff_data_use, name="staff-data-use"),
    path("staff/data-use/held", restriction_views.held_entries, name="held-entries"),
    path(
        "staff/data-use/held/<int:event_id>/release",
        restriction_views.release_entry,
        name="release-entry",
    ),
    path(
        "your-data/entry/<int:event_id>/proof.json",
        proof_views.entry_proof,
        name="entry-proof",
    ),
    path("transparency/log/checkpoint", tlog_views.checkpoint, name="log-checkpoint"),
    path("transparency/log/vkey", tlog_views.verifier_key, name="log-verifier-key"),
    path(
        "transparency/log/tile/entries/<tileindex:index>",
        tlog_views.entries,
        name="log-entries",
    ),
    path(
        "transparency/log/tile/entries/<tileindex:index>.p/<int:width>",
        tlog_views.entries,
        name="log-entries-partial",
    ),
    path("transparency/log/tile/<int:level>/<tileindex:index>", tlog_views.tile, name="log-tile"),
    path(
        "transparency/log/tile/<int:level>/<tileindex:index>.p/<int:width>",
        tlog_views.partial_tile,
        name="log-tile-partial",
    ),
    path("staff/data-use.csv", views.staff_data_use_export, name="staff-data-use-export"),
    # A resident's own data (subject access).
    path("your-data", export_views.your_data, name="your-data"),
    path("your-data/export", export_views.request_export, name="your-data-request"),
    path("your-data/exports/<str:reference>", export_views.export_page, name="your-data-export"),
    path(
        "your-data/exports/<str:reference>/data.json",
        export_views.export_json,
        name="your-data-json",
    ),
    path(
        "your-data/exports/<str:reference>/data.pdf", export_views.export_pdf, name="your-data-pdf"
    ),
    path(
        "your-data/exports/<str:reference>/read",
        export_views.export_readable,
        name="your-data-read",
    ),
    path(
        "your-data/exports/<str:reference>/wrong", export_views.record_wrong, name="your-data-wrong"
    ),
    # Staff: subject access requests and corrections.
    path("staff/subject-access", sar_views.queue, name="sar-queue"),
    path("staff/subject-access/new", sar_views.new_request, name="sar-new"),
    path("staff/subject-access/<str:reference>", sar_views.detail, name="sar"),
    path("staff/subject-access/<str:reference>/extend", sar_views.extend, name="sar-extend"),
    path("staff/subject-access/<str:reference>/data.json", sar_views.sar_json, name="sar-json"),
    path("staff/subject-access/<str:reference>/data.pdf", sar_views.sar_pdf, name="sar-pdf"),
    path("staff/corrections", sar_views.corrections, name="staff-corrections"),
    path("staff/corrections/<str:reference>", sar_views.correction, name="staff-correction"),
    path("staff/data-use/unusual", oversight_views.unusual_access, name="staff-unusual-access"),
    path("staff/data-use/questions", question_views.staff_questions, name="staff-questions"),
    path(
        "staff/data-use/questions/<int:case_id>",
        question_views.staff_question,
        name="staff-question",
    ),
]
