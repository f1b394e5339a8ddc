from django import forms
from django.contrib.auth.forms import AuthenticationForm

from borough.core.models import Feedback


class FeedbackForm(forms.Form):
    satisfaction = forms.TypedChoiceField(
        label="Overall, how did you feel about the service you received today?",
        choices=Feedback.Satisfaction.choices,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": "Select how you felt about the service"},
    )
    comments = forms.CharField(
        label="How could we improve this service?",
        help_text="Do not include personal or financial information, like your name or bank details.",
        required=False,
        max_length=1200,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"max_length": "Your comments must be 1,200 characters or fewer"},
    )
    page = forms.CharField(required=False, widget=forms.HiddenInput, max_length=500)


class ResidentSignInForm(forms.Form):
    email = forms.EmailField(
        label="Email address",
        help_text="We'll send you a link to sign in. You do not need a password.",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": False}),
        error_messages={
            "required": "Enter your email address",
            "invalid": "Enter an email address in the correct format, like name@example.com",
        },
    )


class StaffSignInForm(AuthenticationForm):
    error_messages = {
        "invalid_login": "Enter a correct username and password",
        "inactive": "This account has been switched off. Ask an administrator.",
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].error_messages["required"] = "Enter your username"
        self.fields["password"].error_messages["required"] = "Enter your password"
        self.fields["username"].widget.attrs.pop("autofocus", None)

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if not user.is_staff_member:
            raise forms.ValidationError(self.error_messages["invalid_login"], code="invalid_login")
