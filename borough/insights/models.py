"""Insight's only tables: decision notes. The warehouse lives outside the database."""

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models


class ImmutableError(Exception):
    """A saved decision note is never changed."""


class DecisionNoteQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise ImmutableError("A decision note cannot be changed once it is saved")

    def delete(self):
        raise ImmutableError("A decision note cannot be deleted")


class DecisionNote(models.Model):
    """A what-if saved with the decision taken on it: what was changed, the figures as they were
    then (a snapshot, so later changes to permits or rent accounts never alter it), the
    decision, who took it and when. Written once: ``save`` refuses an update, and there is no
    edit page."""

    class Kind(models.TextChoices):
        PERMITS = "permits", "Permit prices and bands"
        DIRECT_DEBIT = "direct_debit", "Direct Debit collection days"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    title = models.CharField(max_length=120)
    parameters = models.JSONField(encoder=DjangoJSONEncoder)
    figures = models.JSONField(encoder=DjangoJSONEncoder)
    decision = models.TextField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(auto_now_add=True)

    objects = DecisionNoteQuerySet.as_manager()

    class Meta:
        ordering = ["-decided_at", "-pk"]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs):
        if self.pk is not None or not self._state.adding:
            raise ImmutableError("A decision note cannot be changed once it is saved")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableError("A decision note cannot be deleted")
