"""A resident's own entry in the sealed log, with its inclusion proof.

``inclusion_proof_for_event`` gives what anyone needs to check that an event is in the log the
latest signed checkpoint commits to: the entry (the leaf's bytes, or for a restricted event its
body, salt and leaf), the leaf's position, the tree size, the checkpoint note and the audit
path (RFC 9162 §2.1.3), the path read from the public tiles as a tiles client would read it.
It never decides who may see it: ``proof_views.py`` serves it only to the event's own resident.
"""

from __future__ import annotations

import base64

from django.utils import timezone

from borough.transparency import merkle, tiles
from borough.transparency.models import DataUseEvent, SealedLeaf
from borough.transparency.sealing import (
    body_bytes,
    event_rows,
    is_restricted,
    latest_checkpoint,
    leaf_bytes,
)
from borough.transparency.visibility import visible_to_resident


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def inclusion_proof_for_event(event_id: int) -> dict | None:
    """The entry and inclusion proof of event ``event_id`` in the latest checkpoint's tree;
    None if it is not sealed yet (or no longer stored). A restricted event's salt is included
    only once the resident may see it (its date has come, or it was released)."""
    sealed = SealedLeaf.objects.filter(event_id=event_id).first()
    checkpoint = latest_checkpoint()
    if sealed is None or checkpoint is None or sealed.position >= checkpoint.size:
        return None
    rows = event_rows("e.id = %s", [event_id], 1)
    if not rows:
        return None
    (row,) = rows
    position, size = sealed.position, checkpoint.size
    read: dict = {}
    path = merkle.inclusion_path(position, size, lambda a, b: tiles.subtree_hash(a, b, size, read))
    answer = {
        "event_id": event_id,
        "leaf_index": position,
        "tree_size": size,
        "checkpoint": checkpoint.note,
        "leaf_hash": _b64(bytes(sealed.leaf_hash)),
        "inclusion_proof": [_b64(h) for h in path],
    }
    if not is_restricted(row):
        answer["entry"] = leaf_bytes(position, row).decode()
        return answer
    answer["restricted"] = True
    shown = visible_to_resident(DataUseEvent.objects.filter(pk=event_id), timezone.now())
    if shown.exists():
        answer["entry"] = leaf_bytes(position, row).decode()
        answer["body"] = body_bytes(position, row).decode()
        answer["salt"] = _b64(row[-1])
    return answer
