from django.urls import path

from borough.housing import views

app_name = "housing"

urlpatterns = [
    path("rent", views.start, name="start"),
    path("rent/account", views.home, name="home"),
    path("rent/find", views.link, name="link"),
    path("rent/find/you", views.link_you, name="link-you"),
    path("rent/account/<str:reference>", views.account, name="account"),
    path("rent/account/<str:reference>/statement", views.statement, name="statement"),
    path(
        "rent/account/<str:reference>/standing-order",
        views.standing_order,
        name="standing-order",
    ),
]
