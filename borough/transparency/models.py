"""The data-use log: one row for each resident whose data a service, officer or system used.

Write it only through ``services.record_data_use`` (ruff's banned-api rule TID251 stops other apps
importing ``DataUseEvent``); read it through ``queries.py``.

An event is metadata about a use, never the data used: a stable resident ID, who or what used it,
when, why (purpose and lawful basis, in plain English), which datasets were read, and an opaque
reference. No names, addresses, dates of birth, vehicle registrations or other personal details.
``tests/test_models.py`` holds the allow-list of fields; a new field has to be added there on
purpose.

One row per subject resident. An action that reads several residents' data (a household check)
writes several rows in one INSERT, sharing an ``action_id``. That keeps a resident's own history
one indexed look-up, at the cost of repeating the metadata per resident; see
``docs/data-use-log.md``.

The log is append-only: ``save`` refuses to change a stored event, ``delete`` refuses, and the
manager's queryset refuses ``update`` and ``delete``, and in the database itself triggers refuse
UPDATE and DELETE on the events, sealed leaves and checkpoints (migration 0003). The log is also
sealed into a signed Merkle tree (``sealing.py``), so a change made past all that is detected by
``borough transparency verify``.
"""

import uuid

from django.conf import settings
from django.db import models


class AppendOnlyError(Exception):
    """Someone tried to change or delete a data-use event."""

    def __init__(self, what: str = "changed") -> None:
        super().__init__(f"Data-use events are append-only: an event cannot be {what}.")


class ActorKind(models.TextChoices):
    STAFF = "staff", "Council officer"
    SERVICE = "service", "Council service"
    SYSTEM = "system", "Automated system"
    RESIDENT = "resident", "The resident"


class Action(models.TextChoices):
    VERIFICATION = "verification", "Verification"
    VIEWED_RECORDS = "viewed_records", "Viewed records"
    ENFORCEMENT_CHECK = "enforcement_check", "Enforcement check"
    PAYMENT_MATCHING = "payment_matching", "Payment matching"
    MATCH_REVIEW = "match_review", "Match review"
    EXPORT = "export", "Export"
    #: A batch job or an officer changed or linked a resident's records (a load, a re-link,
    #: weekly charges, a Bacs run or report).
    UPDATED_RECORDS = "updated_records", "Updated records"
    SENT_NOTICE = "sent_notice", "Sent a notice"
    HELD_BACK = "held_back", "Held back from the resident"
    RELEASED = "released", "Released to the resident"
    PURGED = "purged", "Deleted at the end of its retention period"


#: Kinds of actor that are a person with an account (``actor_user`` is set) and kinds that are not.
PERSON_ACTORS = (ActorKind.STAFF, ActorKind.RESIDENT)
MACHINE_ACTORS = (ActorKind.SERVICE, ActorKind.SYSTEM)


class DataUseEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("changed")

    def delete(self):
        raise AppendOnlyError("deleted")

    def bulk_update(self, objs, fields, batch_size=None):
        raise AppendOnlyError("changed")


class DataUseEvent(models.Model):
    action_id = models.UUIDField(
        default=uuid.uuid4,
        editable=False,
        help_text="Shared by every row one call to record_data_use wrote",
    )
    occurred_at = models.DateTimeField(db_index=True)
    subject_resident_id = models.CharField(
        max_length=40,
        blank=True,
        help_text="The stable resident ID whose data was used; blank if the look-up found nobody",
    )
    actor_kind = models.CharField(max_length=10, choices=ActorKind.choices)
    # PROTECT: the log must say who for as long as it is kept (6 years), so an account that has
    # used residents' data is deactivated, not deleted. SET_NULL would also rewrite stored events
    # behind the append-only guard (Django's collector updates the rows directly).
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="data_use_events",
        help_text="The officer or resident account; empty for a service or system",
    )
    actor_label = models.CharField(
        max_length=120,
        help_text="Who or what, as residents read it, e.g. \"Enforcement device API key 'van-7'\"",
    )
    service = models.CharField(max_length=30, help_text="A code from purposes.SERVICES")
    purpose = models.CharField(max_length=60, help_text="A code from purposes.PURPOSES")
    purpose_text = models.CharField(max_length=300, help_text="The purpose as residents read it")
    lawful_basis = models.CharField(max_length=60, help_text="A code from purposes.LAWFUL_BASES")
    lawful_basis_text = models.CharField(max_length=400)
    datasets_read = models.JSONField(default=list, help_text="Dataset codes")
    action = models.CharField(max_length=30, choices=Action.choices)
    reference = models.CharField(
        max_length=64, blank=True, help_text="Opaque, e.g. an application number"
    )
    outcome = models.CharField(max_length=30, blank=True, help_text='A short code, e.g. "verified"')
    # A restricted event (an investigation) is held back from the resident: until ``hidden_until``
    # (a UK date, from its first moment) or, when that is empty, until the data protection officer
    # releases it (``EventDisclosure``). Set at insert only; see ``visibility.py``.
    restriction_reason_code = models.CharField(
        max_length=40,
        blank=True,
        help_text="A code from purposes.RESTRICTION_REASONS; blank for an ordinary event",
    )
    hidden_until = models.DateField(
        null=True, blank=True, help_text="Held back from the resident until this UK date"
    )

    objects = DataUseEventQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(
                fields=["restriction_reason_code"],
                name="data_use_restricted",
                condition=~models.Q(restriction_reason_code=""),
            ),
            # A resident's own history, newest first in the timeline's order; also serves every
            # look-up by resident ID. It carries the columns ``visibility.visible_to_resident``
            # reads, so PostgreSQL counts a resident's timeline from the index alone (an
            # index-only scan), however far apart their events lie in the table.
            models.Index(
                fields=["subject_resident_id", "-occurred_at", "-id"],
                include=["restriction_reason_code", "hidden_until"],
                name="data_use_subject_visible",
            ),
            models.Index(fields=["purpose", "-occurred_at"], name="data_use_purpose_time"),
            # The data protection officer's "Unusual access" (oversight.py): staff events in a
            # period, by officer. Partial: most events are services', systems' and residents'.
            models.Index(
                fields=["occurred_at", "actor_user"],
                condition=models.Q(actor_kind="staff"),
                name="data_use_staff_time",
            ),
        ]
        # Three rules every event keeps, checked in the database by a trigger, not by CHECK
        # constraints (PostgreSQL plans those again for every INSERT): the actor's kind is one
        # of ActorKind; a person (PERSON_ACTORS) has an account and a service or system
        # (MACHINE_ACTORS) has none; only a restricted event has ``hidden_until``. Migration
        # 0014 holds them.

    def __str__(self) -> str:
        who = self.subject_resident_id or "no resident"
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.action} for {who} ({self.purpose})"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("changed")
        # Never an UPDATE, even for an unsaved instance given an existing primary key.
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("deleted")


class SealedLeaf(models.Model):
    """One event's place in the Merkle log: its position and the hash of its leaf.

    Written only by ``sealing.seal``. ``event_id`` is not a foreign key: retention may purge an
    event's row while its leaf hash stays, so old proofs still verify. The leaf format is in
    ``sealing.leaf_bytes`` and ``docs/data-use-log.md``.
    """

    position = models.BigIntegerField(primary_key=True)
    event_id = models.BigIntegerField(unique=True)
    leaf_hash = models.BinaryField(max_length=32)

    class Meta:
        ordering = ["position"]

    def __str__(self) -> str:
        return f"leaf {self.position}: event {self.event_id}"


class LogTile(models.Model):
    """A full hash tile of the sealed log (C2SP tlog-tiles), stored by the sealer as the tree
    grows past it, so that a tile or a proof is read, never recomputed from the leaves.

    ``root`` is the Merkle hash of the tile's hashes: the node one level up, so a partial tile
    at the right edge of level ``L + 1`` is the roots of level ``L``'s stored tiles. A level-0
    tile's hashes are the ``SealedLeaf`` rows themselves, so only its root is stored
    (``hashes`` is NULL). Like the leaf hashes, tiles stay when retention purges event bodies.
    """

    level = models.PositiveSmallIntegerField()
    index = models.BigIntegerField()
    root = models.BinaryField(max_length=32)
    hashes = models.BinaryField(null=True, help_text="256 hashes; NULL at level 0 (the leaves)")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["level", "index"], name="transparency_logtile_unique")
        ]

    def __str__(self) -> str:
        return f"tile {self.level}/{self.index}"


class LogCheckpoint(models.Model):
    """A signed checkpoint of the Merkle log: its size, root and the signed note published.

    ``compact_range`` is the right edge of the tree at this size (one 32-byte hash per set bit of
    ``size``), so the next seal carries on without rereading the leaves.
    """

    size = models.BigIntegerField(primary_key=True)
    root_hash = models.BinaryField(max_length=32)
    compact_range = models.BinaryField()
    note = models.TextField(help_text="The signed note (C2SP tlog-checkpoint)")
    last_event_id = models.BigIntegerField(help_text="The highest event ID sealed so far")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-size"]

    def __str__(self) -> str:
        return f"checkpoint {self.size}"


class EventSalt(models.Model):
    """The random salt of a restricted event's sealed commitment (``sealing.py``).

    Written at insert with the event, never served publicly: the public log holds only
    SHA-256(salt ‖ leaf), which says nothing of the event. On release the salt is handed to the
    resident with the entry's proof, so they can check the leaf. Append-only like the log.
    """

    event_id = models.BigIntegerField(primary_key=True)
    salt = models.BinaryField(max_length=32)

    def __str__(self) -> str:
        return f"salt of event {self.event_id}"


class EventDisclosure(models.Model):
    """The data protection officer released a restricted event to its resident. Append-only."""

    event_id = models.BigIntegerField(unique=True)
    released_at = models.DateTimeField()
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="event_disclosures"
    )
    reason = models.TextField(max_length=1000)

    class Meta:
        ordering = ["-released_at"]

    def __str__(self) -> str:
        return f"event {self.event_id} released {self.released_at:%Y-%m-%d}"


class PurgeRun(models.Model):
    """One run of ``borough transparency purge``: when, how many events of each kind went, and
    how many records of each dataset and kind of service record were anonymised."""

    ran_at = models.DateTimeField()
    schedule = models.JSONField(help_text="The retention schedule the run applied")
    counts = models.JSONField(
        default=list, help_text="[purpose, action, count, oldest, newest] per kind of event purged"
    )
    total = models.BigIntegerField(default=0)
    records = models.JSONField(
        default=list,
        blank=True,
        help_text="[kind, code, count, oldest end, newest end] per dataset or kind of service "
        "record anonymised (transparency.record_retention)",
    )

    class Meta:
        ordering = ["-ran_at"]

    def __str__(self) -> str:
        return f"purge {self.ran_at:%Y-%m-%d}: {self.total} event(s)"


class PurgedEvent(models.Model):
    """The tombstone of an event whose row retention deleted. Its sealed leaf hash stays, so
    old proofs still verify; ``verify`` reports it as purged, not removed. A row here is what
    lets the database delete that event (migration 0008); it is append-only itself."""

    event_id = models.BigIntegerField(primary_key=True)
    run = models.ForeignKey(PurgeRun, on_delete=models.PROTECT, related_name="events")
    occurred_at = models.DateTimeField()
    purpose = models.CharField(max_length=60)
    action = models.CharField(max_length=30)

    def __str__(self) -> str:
        return f"event {self.event_id} purged"


class QuestionedEntry(models.Model):
    """A resident's "I don't recognise this" about one event of their own log: a case for the
    data protection officer, who answers it in the staff site (``questions.py``).

    ``resident_id`` is the event's subject, copied so that a case stays with the resident it was
    about; ``asked_by`` is the account that asked. ``answered_by`` is for staff only: the
    resident is never shown who answered.
    """

    class Status(models.TextChoices):
        OPEN = "open", "Waiting for an answer"
        ANSWERED = "answered", "Answered"

    # No reverse accessor: the event's model keeps exactly the relations its allow-list test holds.
    event = models.ForeignKey(DataUseEvent, on_delete=models.PROTECT, related_name="+")
    resident_id = models.CharField(max_length=40, db_index=True)
    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="questioned_entries"
    )
    question = models.TextField(blank=True, help_text="What the resident thinks is wrong")
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    answer = models.TextField(blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status="open", answered_at__isnull=True, answer="")
                | models.Q(status="answered", answered_at__isnull=False) & ~models.Q(answer=""),
                name="questioned_entry_answer_matches_status",
            ),
            # One open question per event and account: a second "I don't recognise this"
            # while the first waits is refused (``questions.ask_about``), never lost.
            models.UniqueConstraint(
                fields=["event", "asked_by"],
                condition=models.Q(status="open"),
                name="questioned_entry_one_open_per_account",
            ),
        ]

    def __str__(self) -> str:
        return f"Question {self.pk} about event {self.event_id} ({self.status})"

    @property
    def reference(self) -> str:
        """How the case is quoted: ``Q-`` and its number."""
        return f"Q-{self.pk}"


from borough.transparency.export_models import (  # noqa: E402, F401  (models of this app)
    DataExport,
    RectificationRequest,
    SubjectAccessRequest,
)
