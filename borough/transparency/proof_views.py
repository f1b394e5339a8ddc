"""A signed-in resident fetches the inclusion proof of one of their own data-use events.

Whose events are the resident's: those whose ``subject_resident_id`` a verification this account
passed linked it to (``resident_queries.resident_ids_of``, the rule of "How we used your data"). Anything else, another resident's event, an event held
back from them, a guessed or unsealed number, is the same 404, so the answer never says that
an event exists. Fetching a proof is not itself recorded: it reads only the log, and recording
each read of the log by its own resident would grow it without end.
"""

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_safe

from borough.core.access import resident_required
from borough.transparency import resident_queries
from borough.transparency.coverage import data_use
from borough.transparency.proofs import inclusion_proof_for_event

NEEDS_CODE = {
    "error": "Enter the code we post to your home first, at /how-we-use-your-data/confirm.",
}
NOT_FOUND = {"error": "No entry of yours has this number, or it is not sealed into the log yet."}


@data_use(none="A resident's own entry's proof, served only to them (docs/data-use-log.md)")
@resident_required
@require_safe
def entry_proof(request: HttpRequest, event_id: int) -> JsonResponse:
    proof = None
    ids = resident_queries.resident_ids_of(request.user)
    if not ids and resident_queries.awaiting_code(request.user):
        return JsonResponse(NEEDS_CODE, status=403)
    if resident_queries.entry_of(ids, event_id):
        proof = inclusion_proof_for_event(event_id)
    if proof is None:
        return JsonResponse(NOT_FOUND, status=404)
    return JsonResponse(proof)
