"""The address pages (find → choose → address) and the staff gazetteer page. Thin: the rules
live in postcodes.py, queries.py and services.py."""

from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from borough.core.access import public, staff_area
from borough.places.forms import (
    AddressChoiceForm,
    GazetteerUploadForm,
    PostcodeForm,
    upload_limit_bytes,
)
from borough.places.models import GazetteerImport
from borough.places.queries import addresses_at, gazetteer_counts, property_by_uprn, recent_imports
from borough.places.services import import_gazetteer
from borough.transparency.coverage import data_use


def _find_url(postcode: str = "") -> str:
    url = reverse("places:find-address")
    return f"{url}?{urlencode({'postcode': postcode})}" if postcode else url


@data_use(none="The gazetteer holds addresses (UPRNs), not people")
@public
@require_GET
def find_address(request: HttpRequest) -> HttpResponse:
    """ "What is your postcode?" The form's GET goes to the choose page."""
    initial = {"postcode": request.GET.get("postcode", "")[:16]}
    return render(
        request,
        "places/find_address.html",
        {"postcode_form": PostcodeForm(initial=initial), "page_title": "What is your postcode?"},
    )


@data_use(none="The gazetteer holds addresses (UPRNs), not people")
@public
@require_http_methods(["GET", "POST"])
def choose_address(request: HttpRequest) -> HttpResponse:
    postcode_form = PostcodeForm(request.GET)
    if not postcode_form.is_valid():
        return render(
            request,
            "places/find_address.html",
            {
                "postcode_form": postcode_form,
                "form": postcode_form,
                "page_title": "What is your postcode?",
            },
        )
    postcode = postcode_form.cleaned_data["postcode"]
    addresses = addresses_at(postcode)
    if request.method == "POST" and addresses:
        form = AddressChoiceForm(addresses, request.POST)
        if form.is_valid():
            return redirect("places:address", uprn=form.cleaned_data["uprn"].uprn)
    else:
        form = AddressChoiceForm(addresses)
    count = len(addresses)
    return render(
        request,
        "places/choose_address.html",
        {
            "form": form if request.method == "POST" else None,
            "choice_form": form,
            "postcode": postcode,
            "addresses": addresses,
            "change_url": _find_url(postcode),
            "page_title": (
                f"{count} address{'es' if count != 1 else ''} found for {postcode}"
                if count
                else f"No addresses found for {postcode}"
            ),
        },
    )


@data_use(none="The gazetteer holds addresses (UPRNs), not people")
@public
@require_GET
def address(request: HttpRequest, uprn: int) -> HttpResponse:
    prop = property_by_uprn(uprn)
    if prop is None:
        raise Http404("No property has that UPRN.")
    return render(
        request,
        "places/address.html",
        {
            "property": prop,
            "parent": prop.parent if prop.parent_id else None,
            "search_again_url": _find_url(prop.postcode),
            "page_title": prop.single_line(),
        },
    )


def _too_big(request: HttpRequest) -> bool:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    # The form's other fields add a few hundred bytes at most.
    return length > upload_limit_bytes() + 64 * 1024


@data_use(none="The gazetteer holds addresses (UPRNs), not people")
@staff_area("administration")
@require_http_methods(["GET", "POST"])
def staff_gazetteer(request: HttpRequest) -> HttpResponse:
    result = None
    shown_import = None
    status = 200
    if request.method == "POST":
        if _too_big(request):
            # Refused before Django reads the body, so a huge upload is not stored first.
            form = GazetteerUploadForm(data={"mapping": "llpg"})
            form.is_valid()
            form.errors.pop("file", None)
            form.add_error("file", GazetteerUploadForm.too_big_message())
            status = 413
        else:
            form = GazetteerUploadForm(request.POST, request.FILES)
            if form.is_valid():
                upload = form.cleaned_data["file"]
                result = import_gazetteer(
                    upload,
                    form.cleaned_data["mapping"],
                    file_name=upload.name,
                    imported_by=request.user,
                    via="staff page",
                )
                if result.ok:
                    return redirect(
                        f"{reverse('places:staff-gazetteer')}?import={result.record.pk}"
                    )
                form.add_error(
                    "file",
                    f"{upload.name} was not loaded: it has {result.problem_count:,} "
                    f"problem{'s' if result.problem_count != 1 else ''}. Nothing was changed.",
                )
    else:
        form = GazetteerUploadForm()
        if request.GET.get("import", "").isdigit():
            shown_import = GazetteerImport.objects.filter(pk=int(request.GET["import"])).first()
    return render(
        request,
        "places/staff/gazetteer.html",
        {
            "form": form,
            "result": result,
            "shown_import": shown_import,
            "counts": gazetteer_counts(),
            "imports": recent_imports(),
            "localtime": timezone.localtime,
            "page_title": "Gazetteer",
        },
        status=status,
    )
