"""A signed-in resident fetches the inclusion proof of one of their own data-use events.

Whose events are the resident's: those whose ``subject_resident_id`` a verification this account
passed linked it to (``own_resident_ids``). Anything else, another resident's event, an event held
back from them, a guessed or unsealed number, is the same 404, so the answer never says that
an event exists. Fetching a proof is not itself recorded: it reads only the log, and recording
each read of the log by its own resident would grow it without end.
"""

from django.db.models import Q
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_safe

from borough.core.access import resident_required
from borough.residents.verification.models import Verification
from borough.transparency.coverage import data_use
from borough.transparency.models import DataUseEvent
from borough.transparency.proofs import inclusion_proof_for_event
from borough.transparency.visibility import visible_to_resident

NOT_FOUND = {"error": "No entry of yours has this number, or it is not sealed into the log yet."}


def own_resident_ids(user) -> list[str]:
    """The resident IDs this account's own verifications linked it to (passed ones only)."""
    passed = Q(decision=Verification.Decision.VERIFIED) | Q(
        decision=Verification.Decision.REFER, review=Verification.Review.CONFIRMED
    )
    return list(
        Verification.objects.filter(passed, actor_user=user)
        .exclude(resident_id="")
        .values_list("resident_id", flat=True)
        .distinct()
    )


@data_use(none="A resident's own entry's proof, served only to them (docs/data-use-log.md)")
@resident_required
@require_safe
def entry_proof(request: HttpRequest, event_id: int) -> JsonResponse:
    ids = own_resident_ids(request.user)
    mine = DataUseEvent.objects.filter(pk=event_id, subject_resident_id__in=ids)
    proof = None
    if ids and visible_to_resident(mine, timezone.now()).exists():
        proof = inclusion_proof_for_event(event_id)
    if proof is None:
        return JsonResponse(NOT_FOUND, status=404)
    return JsonResponse(proof)
