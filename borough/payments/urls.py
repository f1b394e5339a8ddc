from django.urls import path

from borough.payments import views

app_name = "payments"
urlpatterns = [
    path("payments/local/<str:payment_token>", views.local_payment, name="local-payment"),
    path("payments/local/<str:payment_token>/cancel", views.local_cancel, name="local-cancel"),
]
