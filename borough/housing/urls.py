from django.urls import include, path

from borough.housing import finance_views, pay_views, staff_views, views

app_name = "housing"

urlpatterns = [
    path("", include("borough.housing.dd_urls")),
    path("rent", views.start, name="start"),
    path("rent/account", views.home, name="home"),
    path("rent/find", views.link, name="link"),
    path("rent/find/you", views.link_you, name="link-you"),
    path("rent/find/letter", views.link_letter, name="link-letter"),
    path("rent/find/code", views.link_code, name="link-code"),
    path("rent/account/<str:reference>", views.account, name="account"),
    path("rent/account/<str:reference>/statement", views.statement, name="statement"),
    path("rent/account/<str:reference>/pay", pay_views.pay, name="card-pay"),
    path("rent/account/<str:reference>/pay/paid", pay_views.paid, name="card-paid"),
    path("staff/finance/statements", finance_views.imports, name="finance-imports"),
    path(
        "staff/finance/statements/uploads/<int:upload_id>",
        finance_views.upload,
        name="finance-upload",
    ),
    path("staff/finance/suspense", finance_views.suspense, name="finance-suspense"),
    path("staff/finance/reports", finance_views.reports, name="finance-reports"),
    path(
        "staff/finance/suspense/<int:line_id>",
        finance_views.suspense_line,
        name="finance-suspense-line",
    ),
    path("staff/housing/accounts", staff_views.search, name="staff-search"),
    path("staff/housing/accounts/<str:reference>", staff_views.account, name="staff-account"),
    path(
        "staff/housing/accounts/<str:reference>/tenants/<int:tenant_id>/unlink",
        staff_views.unlink,
        name="staff-unlink",
    ),
    path(
        "rent/account/<str:reference>/standing-order",
        views.standing_order,
        name="standing-order",
    ),
]
