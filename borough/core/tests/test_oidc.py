from urllib.parse import parse_qs, urlparse

import pytest

from borough.core.models import User

pytestmark = pytest.mark.django_db

PROVIDER = "https://oidc.integration.example/"


@pytest.fixture
def oidc_on(settings):
    settings.OIDC_ENABLED = True
    settings.OIDC_PROVIDER_NAME = "GOV.UK One Login"
    settings.OIDC_RP_CLIENT_ID = "borough-client"
    settings.OIDC_RP_CLIENT_SECRET = "secret"
    settings.OIDC_RP_SIGN_ALGO = "RS256"
    settings.OIDC_RP_SCOPES = "openid email"
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = PROVIDER + "authorize"
    settings.OIDC_OP_TOKEN_ENDPOINT = PROVIDER + "token"
    settings.OIDC_OP_USER_ENDPOINT = PROVIDER + "userinfo"
    settings.OIDC_OP_JWKS_ENDPOINT = PROVIDER + ".well-known/jwks.json"
    settings.AUTHENTICATION_BACKENDS = [
        *settings.AUTHENTICATION_BACKENDS,
        "borough.core.oidc.ResidentOIDCBackend",
    ]
    return settings


def test_oidc_sign_in_is_off_unless_configured(client):
    assert "Sign in with" not in client.get("/sign-in").content.decode()
    assert client.get("/oidc/authenticate/").status_code == 404


def test_configured_provider_is_offered_and_redirects_there(client, oidc_on):
    page = client.get("/sign-in").content.decode()
    assert "Sign in with GOV.UK One Login" in page
    response = client.get("/oidc/authenticate/")
    assert response.status_code == 302
    target = urlparse(response["Location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == PROVIDER + "authorize"
    query = parse_qs(target.query)
    assert query["client_id"] == ["borough-client"]
    assert query["redirect_uri"][0].endswith("/oidc/callback/")
    assert query["state"] and query["nonce"]


def test_provider_callback_signs_in_a_resident_account(client, oidc_on, monkeypatch):
    from borough.core.oidc import ResidentOIDCBackend

    monkeypatch.setattr(
        ResidentOIDCBackend,
        "get_token",
        lambda self, payload: {"id_token": "id", "access_token": "access"},
    )
    monkeypatch.setattr(
        ResidentOIDCBackend, "verify_token", lambda self, token, **kw: {"nonce": kw.get("nonce")}
    )
    monkeypatch.setattr(
        ResidentOIDCBackend,
        "get_userinfo",
        lambda self, a, i, p: {
            "sub": "urn:fdc:gov.uk:2022:abc",
            "email": "Jo@Example.com",
            "email_verified": True,
        },
    )
    client.get("/oidc/authenticate/")
    state = client.session["oidc_states"]
    state_value = next(iter(state))
    response = client.get("/oidc/callback/", {"code": "abc", "state": state_value})
    assert response.status_code == 302
    user = User.objects.get(email="jo@example.com")
    assert user.is_resident and not user.is_staff
    assert client.get("/account").status_code == 200
