"""The sealed log at fixed public URLs, in the C2SP tlog-tiles shape.

- ``/transparency/log/checkpoint``: the latest signed checkpoint (a C2SP signed note).
- ``/transparency/log/vkey``: the verifier key that checkpoint's signature is checked with, in
  the C2SP signed-note text form (``<name>+<key ID>+<base64 key>``).
- ``/transparency/log/tile/<L>/<N>[.p/<W>]``: hash tiles (``tiles.py``).
- ``/transparency/log/tile/entries/<N>[.p/<W>]``: entry bundles are **not** published, because an
  entry (an event's leaf) holds a resident ID; the URL says so. A resident fetches their own entry
  with its proof (``proof_views.py``).

Anyone may fetch these, with no account: they reveal no personal data, only hashes and the
signed tree head. They are ``@cacheable``: full tiles never change (a year, immutable), partial
tiles for an hour, the checkpoint for five seconds.
"""

from django.core.exceptions import ImproperlyConfigured
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from borough.core.access import public
from borough.core.middleware import cacheable
from borough.transparency import tiles
from borough.transparency.checkpoint import NoteError, load_verifier
from borough.transparency.coverage import data_use
from borough.transparency.sealing import latest_checkpoint

CHECKPOINT_CACHE = "public, max-age=5"
# The key changes only when the council rotates it: an hour keeps a rotation visible soon.
VKEY_CACHE = "public, max-age=3600"
FULL_TILE_CACHE = "public, max-age=31536000, immutable"
PARTIAL_TILE_CACHE = "public, max-age=3600"


def _public_response(body, content_type: str, cache_control: str) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    response["Cache-Control"] = cache_control
    response["Access-Control-Allow-Origin"] = "*"  # witnesses and monitors in browsers
    return response


@data_use(none="Hashes and signed checkpoints of the sealed log: no event body, no resident ID")
@public
@cacheable
@require_safe
def checkpoint(request: HttpRequest) -> HttpResponse:
    latest = latest_checkpoint()
    if latest is None:
        raise Http404("Nothing has been sealed yet.")
    return _public_response(latest.note, "text/plain; charset=utf-8", CHECKPOINT_CACHE)


@data_use(none="The log's public verifier key: no event body, no resident ID")
@public
@cacheable
@require_safe
def verifier_key(request: HttpRequest) -> HttpResponse:
    """The public half of the key that signs the checkpoints, so anyone can check them
    (``borough transparency verify --key``, or any C2SP signed-note client)."""
    try:
        verifier = load_verifier()
    except (ImproperlyConfigured, NoteError, OSError):
        raise Http404("The log has no verifier key configured.") from None
    return _public_response(verifier.key_text() + "\n", "text/plain; charset=utf-8", VKEY_CACHE)


@data_use(none="Hashes and signed checkpoints of the sealed log: no event body, no resident ID")
@public
@cacheable
@require_safe
def tile(request: HttpRequest, level: int, index: str) -> HttpResponse:
    return _tile(level, index, tiles.WIDTH)


@data_use(none="Hashes and signed checkpoints of the sealed log: no event body, no resident ID")
@public
@cacheable
@require_safe
def partial_tile(request: HttpRequest, level: int, index: str, width: int) -> HttpResponse:
    if not 1 <= width < tiles.WIDTH:
        raise Http404("A partial tile has 1 to 255 hashes.")
    return _tile(level, index, width)


def _tile(level: int, index: str, width: int) -> HttpResponse:
    n = tiles.decode_index(index)
    latest = latest_checkpoint()
    if n is None or latest is None:
        raise Http404("No such tile.")
    data = tiles.tile(level, n, width, latest.size)
    if data is None:
        raise Http404("No such tile in the latest checkpoint's tree.")
    cache_control = FULL_TILE_CACHE if width == tiles.WIDTH else PARTIAL_TILE_CACHE
    return _public_response(data, "application/octet-stream", cache_control)


ENTRIES_NOT_PUBLISHED = (
    "Entry bundles are not published: each entry is a record of how a resident's data was used "
    "and holds their resident ID. The hash tiles and the checkpoint are enough to check the "
    "tree. A resident can fetch their own entry and its inclusion proof when signed in.\n"
)


@data_use(none="Hashes and signed checkpoints of the sealed log: no event body, no resident ID")
@public
@require_safe
def entries(request: HttpRequest, index: str, width: int = tiles.WIDTH) -> HttpResponse:
    response = _public_response(ENTRIES_NOT_PUBLISHED, "text/plain; charset=utf-8", "no-store")
    response.status_code = 404
    return response
