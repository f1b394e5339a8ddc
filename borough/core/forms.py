from django import forms
from django.contrib.auth.forms import AuthenticationForm

from borough.core import lockout
from borough.core.magic_links import normalise_email
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
        "locked": lockout.LOCKED_MESSAGE,
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].error_messages["required"] = "Enter your username"
        self.fields["password"].error_messages["required"] = "Enter your password"
        self.fields["username"].widget.attrs.pop("autofocus", None)

    def clean(self):
        # A locked username is refused before its password is checked, right or wrong.
        username = self.cleaned_data.get("username")
        if username and lockout.is_locked(username):
            raise forms.ValidationError(self.error_messages["locked"], code="locked")
        return super().clean()

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if not user.is_staff_member:
            raise forms.ValidationError(self.error_messages["invalid_login"], code="invalid_login")

    def credentials_given(self) -> bool:
        """Whether a username and a password were both typed (only then is a failure counted)."""
        return bool(self.data.get("username")) and bool(self.data.get("password"))


class SecondFactorCodeForm(forms.Form):
    """The 6-digit code from an authenticator app; whether it is right is the view's to say."""

    code = forms.CharField(
        label="Code",
        help_text="The 6-digit code your authenticator app shows now, like 123456",
        max_length=20,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": False}
        ),
        error_messages={"required": "Enter the 6-digit code from your authenticator app"},
    )

    def clean_code(self) -> str:
        code = "".join(self.cleaned_data["code"].split())
        if not (code.isdigit() and len(code) == 6):
            raise forms.ValidationError("Enter the code as 6 digits, like 123456")
        return code


class ChangeEmailForm(forms.Form):
    email = forms.EmailField(
        label="What is your new email address?",
        help_text="We'll send a link to it. Your address changes when you use the link.",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": False}),
        error_messages={
            "required": "Enter your new email address",
            "invalid": "Enter an email address in the correct format, like name@example.com",
            "max_length": "Your email address must be 254 characters or fewer",
        },
    )

    def __init__(self, *args, current: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.current = current

    def clean_email(self) -> str:
        email = normalise_email(self.cleaned_data["email"])
        if email == self.current:
            raise forms.ValidationError(
                "That is the email address your account uses now: enter a different one",
                code="same",
            )
        return email
