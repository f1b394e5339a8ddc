from django.urls import path

from borough.transparency import restriction_views, views

app_name = "transparency"

urlpatterns = [
    path("staff/data-use", views.staff_data_use, name="staff-data-use"),
    path("staff/data-use/held", restriction_views.held_entries, name="held-entries"),
    path(
        "staff/data-use/held/<int:event_id>/release",
        restriction_views.release_entry,
        name="release-entry",
    ),
    path("staff/data-use.csv", views.staff_data_use_export, name="staff-data-use-export"),
]
