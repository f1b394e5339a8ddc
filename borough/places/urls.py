from django.urls import path

from borough.places import views

app_name = "places"

urlpatterns = [
    path("addresses", views.find_address, name="find-address"),
    path("addresses/choose", views.choose_address, name="choose-address"),
    path("addresses/<int:uprn>", views.address, name="address"),
    path("staff/gazetteer", views.staff_gazetteer, name="staff-gazetteer"),
]
