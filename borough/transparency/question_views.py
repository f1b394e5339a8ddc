"""The data protection officer's queue of residents' "I don't recognise this" questions, and the
page that answers one. Answering is recorded in the data-use log (``questions.answer_question``)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from borough.core.access import staff_area
from borough.transparency.coverage import RESIDENT_DATA, data_use
from borough.transparency.models import QuestionedEntry
from borough.transparency.purposes import PURPOSES, SERVICES
from borough.transparency.questions import AlreadyAnswered, answer_question, open_questions
from borough.transparency.resident_forms import AnswerForm
from borough.transparency.resident_queries import dataset_links
from borough.transparency.resident_view import entry
from borough.transparency.staff_view import who_for_staff

RECENTLY_ANSWERED = 20


@data_use(
    none="Open questions by reference, date and resident ID, like the log without a resident filter"
)
@staff_area("transparency")
@require_GET
@never_cache
def staff_questions(request: HttpRequest) -> HttpResponse:
    answered = (
        QuestionedEntry.objects.filter(status=QuestionedEntry.Status.ANSWERED)
        .select_related("event")
        .order_by("-answered_at", "-id")[:RECENTLY_ANSWERED]
    )
    return render(
        request,
        "transparency/staff/questions.html",
        {
            "page_title": "Questioned entries",
            "waiting": list(open_questions()),
            "answered": list(answered),
            "services": SERVICES,
        },
    )


@data_use(touches=RESIDENT_DATA, purposes=["data_use_log_audit"])
@staff_area("transparency")
@require_http_methods(["GET", "POST"])
@never_cache
def staff_question(request: HttpRequest, case_id: int) -> HttpResponse:
    case = get_object_or_404(
        QuestionedEntry.objects.select_related("event", "event__actor_user"), pk=case_id
    )
    form = AnswerForm(request.POST or None)
    if request.method == "POST" and case.status == QuestionedEntry.Status.OPEN and form.is_valid():
        try:
            answer_question(case, request.user, form.cleaned_data["answer"])
        except AlreadyAnswered as error:
            form.add_error("answer", str(error))
        else:
            return redirect("transparency:staff-questions")
    event = case.event
    purpose = PURPOSES.get(event.purpose)
    return render(
        request,
        "transparency/staff/question.html",
        {
            "page_title": f"Question {case.reference}",
            "case": case,
            "form": form,
            "event": event,
            "who": who_for_staff(event),
            "purpose": purpose.title if purpose else event.purpose,
            "resident_sees": entry(event, dataset_links(event.datasets_read), case.asked_by),
        },
    )
