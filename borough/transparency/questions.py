"""Residents' "I don't recognise this" questions about their own data-use events, and the data
protection officer's answers. Every change of a question's state is here.

A resident may ask about an event only through ``resident_queries.entry_of`` (their own events);
the answer is recorded in the data-use log as a use of the resident's data by the data protection
officer. The resident never learns who answered.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from borough.transparency.models import Action, ActorKind, DataUseEvent, QuestionedEntry
from borough.transparency.services import record_data_use

QUESTION_MAX = 1000
ANSWER_MAX = 2000


class AlreadyAnswered(Exception):
    """Another officer answered the question first."""


def ask_about(event: DataUseEvent, user, question: str) -> QuestionedEntry:
    """Open a question about ``event`` for ``user``, or return the one already open about it
    (asking twice makes one case). The caller has checked that the event is the user's own."""
    question = (question or "").strip()
    if len(question) > QUESTION_MAX:
        raise ValueError(f"A question is at most {QUESTION_MAX} characters")
    with transaction.atomic():
        existing = (
            QuestionedEntry.objects.select_for_update()
            .filter(event=event, asked_by=user, status=QuestionedEntry.Status.OPEN)
            .first()
        )
        if existing is not None:
            return existing
        return QuestionedEntry.objects.create(
            event=event,
            resident_id=event.subject_resident_id,
            asked_by=user,
            question=question,
            created_at=timezone.now(),
        )


def open_questions():
    """Questions waiting for the data protection officer, oldest first."""
    return (
        QuestionedEntry.objects.filter(status=QuestionedEntry.Status.OPEN)
        .select_related("event")
        .order_by("created_at", "id")
    )


def answer_question(question: QuestionedEntry, officer, answer: str) -> QuestionedEntry:
    """Store ``officer``'s answer to an open question and record, in the same transaction, that
    the data protection officer used the resident's data to answer it. Raises
    ``AlreadyAnswered`` if it is no longer open (the update is conditional, so two officers
    cannot both answer) and ``ValueError`` for a blank or long answer."""
    answer = (answer or "").strip()
    if not answer:
        raise ValueError("Enter your answer to the resident")
    if len(answer) > ANSWER_MAX:
        raise ValueError(f"An answer is at most {ANSWER_MAX} characters")
    with transaction.atomic():
        changed = QuestionedEntry.objects.filter(
            pk=question.pk, status=QuestionedEntry.Status.OPEN
        ).update(
            status=QuestionedEntry.Status.ANSWERED,
            answer=answer,
            answered_by=officer,
            answered_at=timezone.now(),
        )
        if not changed:
            raise AlreadyAnswered("Another officer has already answered this question.")
        record_data_use(
            subject_resident_ids=[question.resident_id],
            actor=officer,
            actor_kind=ActorKind.STAFF,
            actor_label="Data protection officer",
            purpose="data_use_log_audit",
            action=Action.VIEWED_RECORDS,
            datasets=["data_use_log"],
            reference=f"Q-{question.pk}",
            outcome="answered",
        )
    question.refresh_from_db()
    return question
