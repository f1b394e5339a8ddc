from django.urls import path

from borough.parking import (
    address_views,
    enforcement_views,
    manage_views,
    permit_views,
    renew_views,
    staff_views,
    views,
    visitor_views,
)

app_name = "parking"

urlpatterns = [
    path("parking", views.start, name="start"),
    path("parking/prices", views.prices, name="prices"),
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
    path("parking/apply/pay/<str:reference>", views.apply_pay_again, name="apply-pay-again"),
    path("parking/permits", permit_views.permits, name="permits"),
    path("parking/permits/<str:number>", permit_views.permit, name="permit"),
    # the resident manages a permit (manage_views.py, renew_views.py, address_views.py)
    path("parking/permits/<str:number>/cancel", manage_views.cancel, name="manage-cancel"),
    path("parking/permits/<str:number>/vehicle", manage_views.vehicle, name="manage-vehicle"),
    path(
        "parking/permits/<str:number>/vehicle/confirm",
        manage_views.vehicle_confirm,
        name="manage-vehicle-confirm",
    ),
    path(
        "parking/permits/<str:number>/vehicle/check",
        manage_views.vehicle_check,
        name="manage-vehicle-check",
    ),
    path(
        "parking/vehicle-changes/<str:reference>/paid",
        manage_views.vehicle_paid,
        name="manage-vehicle-paid",
    ),
    path("parking/permits/<str:number>/renew", renew_views.renew, name="manage-renew"),
    path("parking/permits/<str:number>/renew/you", renew_views.renew_who, name="manage-renew-who"),
    path(
        "parking/permits/<str:number>/renew/duration",
        renew_views.renew_duration,
        name="manage-renew-duration",
    ),
    path(
        "parking/permits/<str:number>/renew/check",
        renew_views.renew_check,
        name="manage-renew-check",
    ),
    path("parking/renewals/<str:reference>/paid", renew_views.renew_paid, name="manage-renew-paid"),
    path("parking/permits/<str:number>/proof", address_views.proof, name="manage-proof"),
    path(
        "parking/permits/<str:number>/proof/sent",
        address_views.proof_sent,
        name="manage-proof-sent",
    ),
    path(
        "parking/permits/<str:number>/record-wrong",
        address_views.record_wrong,
        name="manage-record-wrong",
    ),
    path(
        "parking/permits/<str:number>/record-wrong/sent",
        address_views.record_wrong_sent,
        name="manage-record-wrong-sent",
    ),
    path("parking/permits/<str:number>/move", address_views.move, name="manage-move"),
    path(
        "parking/permits/<str:number>/move/address",
        address_views.move_address,
        name="manage-move-address",
    ),
    path(
        "parking/permits/<str:number>/move/check",
        address_views.move_check,
        name="manage-move-check",
    ),
    path(
        "parking/permits/<str:number>/move/done", address_views.move_done, name="manage-move-done"
    ),
    path("parking/visitors", visitor_views.visitors, name="visitors"),
    path("parking/visitors/check", visitor_views.visitors_check, name="visitors-check"),
    path("parking/visitors/<int:session_id>/end", visitor_views.visitor_end, name="visitor-end"),
    path(
        "parking/visitors/<int:session_id>/pay",
        visitor_views.visitor_pay_again,
        name="visitor-pay-again",
    ),
    path("parking/visitors/<int:session_id>/paid", visitor_views.visitor_paid, name="visitor-paid"),
    path("staff/enforcement/check", enforcement_views.enforcement_check, name="enforcement-check"),
    path("staff/parking/applications", staff_views.applications, name="staff-applications"),
    path(
        "staff/parking/applications/<str:reference>",
        staff_views.application,
        name="staff-application",
    ),
    path("staff/parking/permits", staff_views.permits, name="staff-permits"),
    path("staff/parking/permits/<str:number>", staff_views.permit, name="staff-permit"),
    path("staff/parking/proofs/<int:proof_id>", staff_views.proof_file, name="staff-proof"),
]
