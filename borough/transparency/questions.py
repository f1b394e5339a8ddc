"""Residents' "I don't recognise this" questions about their own data-use events, and the data
protection officer's answers. Every change of a question's state is here.

A resident may ask about an event only through ``resident_queries.entry_of`` (their own events);
the answer is recorded in the data-use log as a use of the resident's data by the data protection
officer. The resident never learns who answered.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from borough.transparency.models import Action, ActorKind, DataUseEvent, QuestionedEntry
from borough.transparency.services import record_data_use

QUESTION_MAX = 1000
ANSWER_MAX = 2000


class AlreadyAnswered(Exception):
    """Another officer answered the question first."""


class QuestionAlreadyOpen(Exception):
    """The account already has a question waiting for an answer about this event."""

    def __init__(self, case: QuestionedEntry):
        super().__init__(f"{case.reference} is still waiting for an answer")
        self.case = case


def open_question_about(event: DataUseEvent, user) -> QuestionedEntry | None:
    """``user``'s question about ``event`` that is waiting for an answer, if there is one."""
    return QuestionedEntry.objects.filter(
        event=event, asked_by=user, status=QuestionedEntry.Status.OPEN
    ).first()


def ask_about(event: DataUseEvent, user, question: str) -> QuestionedEntry:
    """Open a question about ``event`` for ``user``. An account has at most one open question
    about an event (a database constraint, so two submissions at once cannot make two): asking
    again while one is open raises ``QuestionAlreadyOpen`` with it, and nothing is stored, so
    the caller never tells the resident that words were sent which were not. The caller has
    checked that the event is the user's own."""
    question = (question or "").strip()
    if len(question) > QUESTION_MAX:
        raise ValueError(f"A question is at most {QUESTION_MAX} characters")
    existing = open_question_about(event, user)
    if existing is not None:
        raise QuestionAlreadyOpen(existing)
    try:
        with transaction.atomic():
            return QuestionedEntry.objects.create(
                event=event,
                resident_id=event.subject_resident_id,
                asked_by=user,
                question=question,
                created_at=timezone.now(),
            )
    except IntegrityError:
        # Another submission opened the question between the check and the insert.
        existing = open_question_about(event, user)
        if existing is None:
            raise
        raise QuestionAlreadyOpen(existing) from None


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
