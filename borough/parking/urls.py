from django.urls import path

from borough.parking import staff_views, views

app_name = "parking"

urlpatterns = [
    path("parking", views.start, name="start"),
    path("parking/apply", views.apply, name="apply"),
    path("parking/apply/expired", views.apply_expired, name="apply-expired"),
    path("parking/apply/postcode", views.apply_postcode, name="apply-postcode"),
    path("parking/apply/address", views.apply_address, name="apply-address"),
    path("parking/apply/zone", views.apply_zone, name="apply-zone"),
    path("parking/apply/you", views.apply_who, name="apply-who"),
    path("parking/apply/checked", views.apply_checked, name="apply-checked"),
    path("parking/apply/vehicle", views.apply_vehicle, name="apply-vehicle"),
    path(
        "parking/apply/vehicle/confirm", views.apply_vehicle_confirm, name="apply-vehicle-confirm"
    ),
    path("parking/apply/duration", views.apply_duration, name="apply-duration"),
    path("parking/apply/check", views.apply_check, name="apply-check"),
    path("parking/apply/paid/<str:reference>", views.apply_paid, name="apply-paid"),
    path("parking/permits", views.permits, name="permits"),
    path("parking/permits/<str:number>", views.permit, name="permit"),
    path("parking/visitors", views.visitors, name="visitors"),
    path("parking/visitors/<int:session_id>/end", views.visitor_end, name="visitor-end"),
    path("staff/enforcement/check", views.enforcement_check, name="enforcement-check"),
    path("staff/parking/applications", staff_views.applications, name="staff-applications"),
    path(
        "staff/parking/applications/<str:reference>",
        staff_views.application,
        name="staff-application",
    ),
    path("staff/parking/permits", staff_views.permits, name="staff-permits"),
    path("staff/parking/permits/<str:number>", staff_views.permit, name="staff-permit"),
]
