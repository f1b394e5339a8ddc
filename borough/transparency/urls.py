from django.urls import path

from borough.transparency import export_views, oversight_views, sar_views, views

app_name = "transparency"

urlpatterns = [
    path("staff/data-use", views.staff_data_use, name="staff-data-use"),
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
]
