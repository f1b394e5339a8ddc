"""Response headers Borough adds to every page it renders."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers


def cacheable(view: Callable) -> Callable:
    """Declare a view's page the same for every visitor who is not signed in, with no personal
    data in it, so a browser may keep it (the start page, the privacy notice, the API's
    OpenAPI document). Every other response is ``no-store`` (``NoStoreMiddleware``)."""
    view.borough_cacheable = True
    return view


class NoStoreMiddleware:
    """Nothing Borough renders stays in a browser's or a proxy's cache unless its view says it is
    public: a resident's account, a staff page, an API answer, a statement download or a page
    showing the email address a sign-in link went to is sent with ``Cache-Control: no-store``
    (and ``private, no-cache, max-age=0`` for older caches), so the next person at a shared
    computer cannot open it again from the cache or the back button.

    The rule is allow-listed, not guessed from the content: a new page is ``no-store`` until its
    view is declared ``@cacheable``; and even a cacheable page is ``no-store`` for a visitor who is
    signed in or sends an API key, since the page then carries their name or session. Static
    files never reach this (WhiteNoise answers them first, with their own long-lived headers).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not self._may_be_cached(request):
            add_never_cache_headers(response)
        return response

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> None:
        request.borough_cacheable = getattr(view_func, "borough_cacheable", False)

    @staticmethod
    def _may_be_cached(request: HttpRequest) -> bool:
        if not getattr(request, "borough_cacheable", False):
            return False
        user = getattr(request, "user", None)
        signed_in = user is not None and user.is_authenticated
        return not signed_in and "HTTP_AUTHORIZATION" not in request.META
