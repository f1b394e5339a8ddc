from django.urls import path, register_converter

from borough.transparency import proof_views, restriction_views, tiles, tlog_views, views


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
]
