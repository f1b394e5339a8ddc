from django.urls import path

from borough.transparency import oversight_views, views

app_name = "transparency"

urlpatterns = [
    path("staff/data-use", views.staff_data_use, name="staff-data-use"),
    path("staff/data-use.csv", views.staff_data_use_export, name="staff-data-use-export"),
    path("staff/data-use/unusual", oversight_views.unusual_access, name="staff-unusual-access"),
]
