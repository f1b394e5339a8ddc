"""The Content-Security-Policy Borough sends with every page (django-csp builds the header).

Everything a page loads comes from Borough itself: its scripts and stylesheets are static files,
and the one inline script, GOV.UK Frontend's line that marks the body ``js-enabled``, carries a
nonce made afresh for each response (``borough.core.context.csp_nonce``). No ``unsafe-inline``,
no ``unsafe-eval``, no CDN. docs/production.md explains each directive.
"""

from urllib.parse import urlsplit

from csp.constants import NONCE, NONE, SELF

# Where GOV.UK Pay sends the payer: a form that starts a payment answers with a redirect there,
# and browsers hold that redirect to the form-action directive.
GOVUK_PAY_CARD_PAGES = "https://card.payments.service.gov.uk"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def content_security_policy(
    *,
    production: bool,
    payment_provider: str = "",
    sign_in_endpoint: str = "",
    form_action: list[str] | None = None,
) -> dict:
    """django-csp's ``CONTENT_SECURITY_POLICY`` setting. ``form_action`` adds origins a form may
    post or be redirected to (``BOROUGH_CSP_FORM_ACTION``) beside GOV.UK Pay's card pages (when
    it is the payment provider) and the OpenID Connect provider's sign-in page (when on)."""
    targets = [SELF]
    if payment_provider == "govuk_pay":
        targets.append(GOVUK_PAY_CARD_PAGES)
    if sign_in_endpoint:
        targets.append(_origin(sign_in_endpoint))
    targets.extend(form_action or [])
    directives: dict = {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        # data: for the SVG icons inside Swagger UI's stylesheet (the API docs page).
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": targets,
    }
    if production:
        directives["upgrade-insecure-requests"] = True
    return {"DIRECTIVES": directives}
