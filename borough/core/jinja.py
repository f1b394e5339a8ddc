"""The Jinja2 environment for GOV.UK Frontend templates."""

from django.conf import settings
from django.templatetags.static import static
from django.urls import reverse
from django.utils import translation
from jinja2 import ChoiceLoader, Environment, PackageLoader, PrefixLoader

from borough.core.dates import (
    date_and_time_in_words,
    date_in_words,
    short_date_in_words,
    time_in_words,
    when_in_words,
)
from borough.core.govuk_forms import error_summary, govuk_field


def url(name: str, *args, **kwargs) -> str:
    return reverse(name, args=args or None, kwargs=kwargs or None)


def environment(**options) -> Environment:
    loader = options.pop("loader")
    options.setdefault("extensions", []).append("jinja2.ext.i18n")
    # Django's Jinja2 backend passes autoescape=True in ``options``.
    env = Environment(  # noqa: S701
        loader=ChoiceLoader(
            [
                loader,
                PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")}),
            ]
        ),
        **options,
    )
    env.install_gettext_translations(translation, newstyle=True)
    env.globals.update(
        static=static,
        url=url,
        # Pages rendered without a request (a server error) still know the council.
        council=settings.COUNCIL,
        govuk_field=govuk_field,
        error_summary=error_summary,
    )
    env.filters.update(
        date_in_words=date_in_words,
        short_date_in_words=short_date_in_words,
        time_in_words=time_in_words,
        when_in_words=when_in_words,
        date_and_time_in_words=date_and_time_in_words,
    )
    return env
