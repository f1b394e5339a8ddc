from django.urls import path

from borough.core import account_views, oidc, staff_sign_in, views

app_name = "core"

urlpatterns = [
    path("", views.start, name="start"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("privacy", views.privacy, name="privacy"),
    path("accessibility", views.accessibility, name="accessibility"),
    path("cookies", views.cookies, name="cookies"),
    path("contact", views.contact, name="contact"),
    path("feedback", views.feedback, name="feedback"),
    path("feedback/sent", views.feedback_sent, name="feedback-sent"),
    path("sign-in", views.resident_sign_in, name="resident-sign-in"),
    path("sign-in/check-email", views.check_email, name="check-email"),
    path("sign-in/link", views.magic_link, name="magic-link"),
    path("sign-out", views.sign_out, name="sign-out"),
    path("signed-out", views.signed_out, name="signed-out"),
    path("account", account_views.account, name="account"),
    path("account/email", account_views.change_email, name="change-email"),
    path("account/email/sent", account_views.change_email_sent, name="change-email-sent"),
    path("account/email/confirm", account_views.confirm_email, name="confirm-email"),
    path("oidc/authenticate/", oidc.oidc_authenticate, name="oidc_authentication_init"),
    path("oidc/callback/", oidc.oidc_callback, name="oidc_authentication_callback"),
    path("staff/sign-in", staff_sign_in.staff_sign_in, name="staff-sign-in"),
    path("staff/sign-in/code", staff_sign_in.second_factor_code, name="staff-sign-in-code"),
    path("staff/sign-in/set-up", staff_sign_in.second_factor_set_up, name="staff-sign-in-set-up"),
    path("staff/", views.staff_home, name="staff-home"),
    path("staff/feedback", views.staff_feedback, name="staff-feedback"),
    *[
        path(f"staff/{slug}/", view, name=f"staff-area-{slug}")
        for slug, view in views.area_views.items()
    ],
]
