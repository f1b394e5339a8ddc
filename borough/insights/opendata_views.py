"""The public open-data pages: the index of the current release and its files."""

import datetime as dt

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from borough.core.access import public
from borough.core.middleware import cacheable
from borough.insights import opendata
from borough.transparency.coverage import data_use


@data_use(none="Published aggregate tables, checked for disclosure before they were written")
@cacheable
@public
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    release = opendata.current_release()
    context = {"page_title": "Open data", "release": release, "ogl": opendata}
    if release is not None:
        manifest = release.manifest
        context["period_start"] = dt.date.fromisoformat(manifest["period"]["start"])
        context["period_end"] = dt.date.fromisoformat(manifest["period"]["end"])
        context["published_at"] = dt.datetime.fromisoformat(manifest["published_at"])
    return render(request, "insights/opendata/index.html", context)


@data_use(none="Published aggregate tables, checked for disclosure before they were written")
@cacheable
@public
@require_GET
def download(request: HttpRequest, file_name: str) -> FileResponse:
    release = opendata.current_release()
    path = opendata.file_path(release, file_name) if release else None
    if path is None or not path.is_file():
        raise Http404("No such open-data file")
    kind = "text/csv" if file_name.endswith(".csv") else "application/csvm+json"
    response = FileResponse(path.open("rb"), as_attachment=True, filename=file_name)
    response["Content-Type"] = f"{kind}; charset=utf-8"
    return response
