""" "How we used your data": the resident's start page, their timeline, an entry, "I don't
recognise this" and their questions, and the public pages about the council's datasets.

Thin: which IDs are the resident's and which events they may see are in ``resident_queries``
(through the one query ``queries.events_for_resident``); asking is in ``questions``. Every
page that shows an event finds it through the resident's own IDs, so another resident's event,
a guessed or a tampered ID is a 404 that says nothing more.

Reading one's own timeline is not recorded in the data-use log: it is not a use of the resident's
data by the council, and recording it would add an event to the timeline each time it is read.
"""

from __future__ import annotations

import functools
from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from borough.core import ratelimit
from borough.core.access import public, resident_required
from borough.transparency import resident_queries
from borough.transparency.coverage import data_use
from borough.transparency.models import QuestionedEntry, SealedLeaf
from borough.transparency.queries import events_for_resident
from borough.transparency.questions import QuestionAlreadyOpen, ask_about, open_question_about
from borough.transparency.resident_forms import QuestionForm, TimelineFilterForm
from borough.transparency.resident_view import entry

PAGE_SIZE = 10
ASKED_KEY = "transparency_asked"
QUESTION_LIMIT = "questioned-entry-account"


@data_use(none="What the council holds and why, the same for everyone: no one's data")
@public
@require_GET
def start(request: HttpRequest) -> HttpResponse:
    signed_in_resident = request.user.is_authenticated and request.user.is_resident
    return render(
        request,
        "transparency/resident/start.html",
        {"page_title": "How we use your data", "signed_in_resident": signed_in_resident},
    )


def _not_known(request: HttpRequest) -> HttpResponse:
    """The account has passed no identity check: why there is nothing to show, and what to do.
    An account whose check passed but that has not entered a code posted to the resident is
    sent to ask for one (``residents.history_codes``)."""
    if resident_queries.awaiting_code(request.user):
        return redirect("residents:history-ask")
    return render(
        request,
        "transparency/resident/not_known.html",
        {
            "page_title": "We cannot show you how we used your data yet",
            "tried": resident_queries.has_tried_a_check(request.user),
        },
    )


def _filter_query(form: TimelineFilterForm) -> str:
    """The filters as a query string (no page number): only the form's own fields."""
    return urlencode({name: form.data[name] for name in form.fields if form.data.get(name)})


@data_use(
    none="A resident reading their own entries: not a use by the council (docs/data-use-log.md)"
)
@resident_required
@require_GET
def timeline(request: HttpRequest) -> HttpResponse:
    ids = resident_queries.resident_ids_of(request.user)
    if not ids:
        return _not_known(request)
    form = TimelineFilterForm(request.GET)
    page = None
    entries = []
    if form.is_valid():
        query = events_for_resident(ids, **form.filters())
        page = Paginator(query, PAGE_SIZE).get_page(request.GET.get("page"))
        shown = list(page.object_list)
        links = resident_queries.dataset_links(c for event in shown for c in event.datasets_read)
        entries = [entry(event, links, request.user) for event in shown]
    query = _filter_query(form)
    return render(
        request,
        "transparency/resident/timeline.html",
        {
            "page_title": "How we used your data",
            "form": form,
            "page_obj": page,
            "entries": entries,
            "since_input": form.date_input("since"),
            "until_input": form.date_input("until"),
            "filtered": bool(query),
            "page_query": f"{query}&" if query else "",
            "open_questions": resident_queries.questions_of(request.user, ids)
            .filter(status="open")
            .count(),
        },
    )


class NeedsCode(Exception):
    """The account must enter a code posted to the resident first."""


def _needs_code_redirect(view):
    """Turn ``NeedsCode`` into the page that asks for a code by post."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except NeedsCode:
            return redirect("residents:history-ask")

    return wrapped


def _own_event(request: HttpRequest, event_id: int):
    """The resident's own event ``event_id``, or 404 (the same 404 whoever's it is). An account
    still to enter a code posted to the resident is sent to ask for one, whatever the number."""
    ids = resident_queries.resident_ids_of(request.user)
    if not ids and resident_queries.awaiting_code(request.user):
        raise NeedsCode
    event = resident_queries.entry_of(ids, event_id)
    if event is None:
        raise Http404("No such entry")
    return event


@data_use(
    none="A resident reading their own entries: not a use by the council (docs/data-use-log.md)"
)
@resident_required
@_needs_code_redirect
@require_GET
def entry_page(request: HttpRequest, event_id: int) -> HttpResponse:
    event = _own_event(request, event_id)
    links = resident_queries.dataset_links(event.datasets_read)
    questions = QuestionedEntry.objects.filter(event=event, asked_by=request.user)
    return render(
        request,
        "transparency/resident/entry.html",
        {
            "page_title": "An entry in how we used your data",
            "entry": entry(event, links, request.user),
            "questions": list(questions),
            "asking_open": any(q.status == "open" for q in questions),
            "just_asked": request.session.pop(ASKED_KEY, None) == event.pk,
            # The entry's inclusion proof, once the sealer has sealed it.
            "inclusion_proof_url": (
                reverse("transparency:entry-proof", args=[event.pk])
                if SealedLeaf.objects.filter(event_id=event.pk).exists()
                else None
            ),
        },
    )


@data_use(
    none="A resident reading their own entries: not a use by the council (docs/data-use-log.md)"
)
@resident_required
@_needs_code_redirect
@require_http_methods(["GET", "POST"])
def question(request: HttpRequest, event_id: int) -> HttpResponse:
    """ "I don't recognise this": opens a case for the data protection officer. Asking is
    limited per account (``questioned-entry-account``); over the limit the page says how long to
    wait and keeps what was typed. While the account's question about the entry is open, the
    page shows that question instead of the form, and a second submission is refused (409)
    saying so: nothing is sent, and nothing says it was."""
    event = _own_event(request, event_id)
    form = QuestionForm(request.POST or None)
    status = 200
    waiting = open_question_about(event, request.user)
    if request.method == "POST" and waiting is None and form.is_valid():
        verdict = ratelimit.hit(QUESTION_LIMIT, str(request.user.pk))
        if verdict.allowed:
            try:
                ask_about(event, request.user, form.cleaned_data["question"])
            except QuestionAlreadyOpen as already:
                waiting = already.case
            else:
                request.session[ASKED_KEY] = event.pk
                return redirect("transparency:entry", event_id=event.pk)
        else:
            rule = ratelimit.limit(QUESTION_LIMIT)
            form.add_error(
                "question",
                f"You have asked about {rule.count} {'entry' if rule.count == 1 else 'entries'} "
                "recently. Wait "
                f"{ratelimit.wait_words(verdict.retry_after)} before you ask about another",
            )
            status = 429
    if waiting is not None and request.method == "POST":
        status = 409
    links = resident_queries.dataset_links(event.datasets_read)
    response = render(
        request,
        "transparency/resident/question.html",
        {
            "page_title": "I don't recognise this",
            "form": form,
            "entry": entry(event, links, request.user),
            "waiting": waiting,
            "refused": status == 409,
        },
        status=status,
    )
    if status == 429:
        response["Retry-After"] = str(verdict.retry_after)
    return response


@data_use(
    none="A resident reading their own entries: not a use by the council (docs/data-use-log.md)"
)
@resident_required
@require_GET
def questions(request: HttpRequest) -> HttpResponse:
    ids = resident_queries.resident_ids_of(request.user)
    if not ids:
        return _not_known(request)
    asked = list(resident_queries.questions_of(request.user, ids))
    links = resident_queries.dataset_links(c for q in asked for c in q.event.datasets_read)
    return render(
        request,
        "transparency/resident/questions.html",
        {
            "page_title": "Your questions about how we used your data",
            "asked": [(q, entry(q.event, links, request.user)) for q in asked],
        },
    )


@data_use(none="What the council holds and why, the same for everyone: no one's data")
@public
@require_GET
def datasets(request: HttpRequest) -> HttpResponse:
    listed = [
        (title, reverse("transparency:dataset", args=[code]))
        for code, title in resident_queries.datasets_described()
    ]
    return render(
        request,
        "transparency/resident/datasets.html",
        {"page_title": "The council records we use", "datasets": listed},
    )


@data_use(none="What the council holds and why, the same for everyone: no one's data")
@public
@require_GET
def dataset(request: HttpRequest, code: str) -> HttpResponse:
    about = resident_queries.about_dataset(code)
    if about is None:
        raise Http404("No such dataset")
    return render(
        request, "transparency/resident/dataset.html", {"page_title": about.title, "about": about}
    )
