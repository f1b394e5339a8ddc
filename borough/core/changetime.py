"""A model's change time that every write sets, so readers can take only what changed since
they last looked (the Insight warehouse's incremental build, ``borough/insights/extract.py``).

Django's ``auto_now`` runs only in ``save()`` and ``bulk_create``: a ``save(update_fields=…)``
that does not name the field, a queryset's ``.update()`` and ``bulk_update`` leave it as it was.
A model with ``ChangeTimeMixin`` and ``objects = ChangeTimeQuerySet.as_manager()`` sets
``updated_at`` on all of these as well.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

FIELD = "updated_at"


class ChangeTimeQuerySet(models.QuerySet):
    def update(self, **kwargs):
        kwargs.setdefault(FIELD, timezone.now())
        return super().update(**kwargs)

    def bulk_update(self, objs, fields, batch_size=None):
        objs = list(objs)
        if FIELD not in fields:
            now = timezone.now()
            for obj in objs:
                setattr(obj, FIELD, now)
            fields = [*fields, FIELD]
        return super().bulk_update(objs, fields, batch_size=batch_size)


class ChangeTimeMixin:
    def save(self, *args, **kwargs):
        fields = kwargs.get("update_fields")
        if fields is not None and FIELD not in fields:
            kwargs["update_fields"] = [*fields, FIELD]
        return super().save(*args, **kwargs)
