"""The parking back office: applications waiting for an officer, permit search, a permit's
page (proof, cancellation with refund). Every page that shows an applicant's details writes a
``staff_view_records`` event to the data-use log; every decision is a ``PermitEvent``."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.db.models import Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from borough.core.access import staff_area
from borough.parking import services
from borough.parking.models import Permit, PermitApplication, ProofUpload, RecordDispute
from borough.parking.pages import PAGE_HELPERS
from borough.parking.registrations import InvalidRegistration, normalise_vrm, parse_vrm
from borough.places.models import Property
from borough.residents.verification.models import Verification
from borough.transparency.coverage import RESIDENT_DATA, data_use
from borough.transparency.models import Action, ActorKind
from borough.transparency.services import record_data_use

PAGE_SIZE = 50
money = PAGE_HELPERS["money"]


def _cfg():
    return settings.COUNCIL.parking


def _logged_view(request: HttpRequest, application: PermitApplication) -> None:
    if application.anonymised_at is not None:
        return  # retention has removed the applicant's details: there is no one's data to see
    record_data_use(
        subject_resident_ids=[application.resident_id] if application.resident_id else [],
        actor=request.user,
        actor_kind=ActorKind.STAFF,
        purpose="staff_view_records",
        action=Action.VIEWED_RECORDS,
        datasets=["parking_permits"],
        reference=application.reference,
        service="parking",
    )


def _render(request, template: str, context: dict) -> HttpResponse:
    return render(request, f"parking/staff/{template}", {**PAGE_HELPERS, **context})


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label="Decision",
        choices=[("approve", "Issue the permit"), ("refuse", "Refuse and refund in full")],
        widget=forms.RadioSelect,
        error_messages={"required": "Select whether to issue the permit or refuse it"},
    )
    reason = forms.CharField(
        label="Reason",
        help_text="The applicant sees this. Say which evidence you checked.",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "required": "Enter the reason for your decision",
            "max_length": "The reason must be 500 characters or fewer",
        },
    )


class CancelForm(forms.Form):
    reason = forms.CharField(
        label="Why is the permit being cancelled?",
        max_length=200,
        error_messages={
            "required": "Enter why the permit is being cancelled",
            "max_length": "The reason must be 200 characters or fewer",
        },
    )


@data_use(none="Application and permit numbers, zones and dates only; opening one records the view")
@staff_area("parking")
@require_GET
def applications(request: HttpRequest) -> HttpResponse:
    waiting = PermitApplication.objects.filter(
        status=PermitApplication.Status.NEEDS_OFFICER
    ).select_related("zone")
    proof = Permit.objects.filter(status=Permit.Status.PROOF_NEEDED).order_by("proof_due_on")
    disputes = RecordDispute.objects.filter(resolved_at__isnull=True).select_related("permit")
    return _render(
        request,
        "applications.html",
        {
            "waiting": waiting,
            "proof_needed": proof,
            "disputes": disputes,
            "page_title": "Permit applications for an officer",
        },
    )


@data_use(touches=RESIDENT_DATA, purposes=["staff_view_records"])
@staff_area("parking")
@require_http_methods(["GET", "POST"])
def application(request: HttpRequest, reference: str) -> HttpResponse:
    found = PermitApplication.objects.filter(reference=reference).select_related("zone").first()
    if found is None:
        raise Http404("No application has that reference.")
    form = DecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        reason = form.cleaned_data["reason"]
        try:
            if form.cleaned_data["decision"] == "approve":
                services.approve_application(
                    found.pk,
                    officer=request.user,
                    reason=reason,
                    max_per_household=_cfg().max_resident_permits_per_household,
                )
            else:
                services.refuse_application(found.pk, officer=request.user, reason=reason)
        except services.PermitRuleError as error:
            form.add_error("decision", error.message)
        else:
            issued = form.cleaned_data["decision"] == "approve"
            messages.success(
                request,
                "The permit is issued and the applicant can use it now."
                if issued
                else f"The application is refused and {money(found.price_pence)} refunded in full.",
                extra_tags="Permit issued" if issued else "Application refused",
            )
            return redirect("parking:staff-application", reference=found.reference)
    _logged_view(request, found)
    verification = (
        Verification.objects.filter(reference=found.verification_reference).first()
        if found.verification_reference
        else None
    )
    return _render(
        request,
        "application.html",
        {
            "application": found,
            "address": Property.objects.get(pk=found.property_id).single_line(),
            "verification": verification,
            "events": found.events.select_related("actor"),
            "permit": Permit.objects.filter(application=found).first(),
            "form": form if request.method == "POST" else None,
            "decision_form": form,
            "notices": list(messages.get_messages(request)),
            "page_title": f"Application {found.reference}",
        },
    )


@data_use(touches=RESIDENT_DATA, purposes=["staff_view_records"])
@staff_area("parking")
@require_GET
def permits(request: HttpRequest) -> HttpResponse:
    """Search permits by registration, permit number or address (postcode or street)."""
    query = request.GET.get("q", "").strip()[:100]
    results = None
    if query:
        found = Permit.objects.select_related("zone", "application")
        conditions = Q(number__iexact=query)
        try:
            conditions |= Q(vrm=parse_vrm(query).vrm)
        except InvalidRegistration:
            pass
        compact = normalise_vrm(query)
        uprns = Property.objects.filter(
            Q(postcode__iexact=query) | Q(street__icontains=query)
        ).values_list("uprn", flat=True)[:500]
        conditions |= Q(property_id__in=list(uprns))
        if compact.isdigit():
            conditions |= Q(property_id=int(compact))
        results = list(found.filter(conditions).order_by("-issued_at")[:PAGE_SIZE])
        holders = [p.application.resident_id for p in results if p.application.resident_id]
        if holders:
            # registrations are the holders' personal data: the search is a view of each
            record_data_use(
                subject_resident_ids=holders,
                actor=request.user,
                actor_kind=ActorKind.STAFF,
                purpose="staff_view_records",
                action=Action.VIEWED_RECORDS,
                datasets=["parking_permits"],
                reference="permit-search",
                service="parking",
            )
    return _render(
        request,
        "permits.html",
        {"query": query, "results": results, "page_title": "Find a permit"},
    )


@data_use(touches=RESIDENT_DATA, purposes=["staff_view_records"])
@staff_area("parking")
@require_http_methods(["GET", "POST"])
def permit(request: HttpRequest, number: str) -> HttpResponse:
    found = Permit.objects.filter(number=number).select_related("zone", "application").first()
    if found is None:
        raise Http404("No permit has that number.")
    form = (
        CancelForm(request.POST or None) if request.POST.get("action") == "cancel" else CancelForm()
    )
    if request.method == "POST":
        if request.POST.get("action") == "accept_proof":
            services.accept_proof(found.pk, officer=request.user)
            messages.success(
                request, "The permit no longer needs proof.", extra_tags="Proof accepted"
            )
            return redirect("parking:staff-permit", number=found.number)
        if request.POST.get("action") == "cancel" and form.is_valid():
            before = found.refunded_pence
            cancelled = services.cancel_permit(
                found.pk, actor=request.user, reason=form.cleaned_data["reason"]
            )
            refunded = cancelled.refunded_pence - before
            messages.success(
                request,
                f"It stopped today. {money(refunded)} refunded to the holder's card."
                if refunded
                else "It stopped today. Nothing was refunded.",
                extra_tags=f"Permit {found.number} cancelled",
            )
            return redirect("parking:staff-permit", number=found.number)
    _logged_view(request, found.application)
    return _render(
        request,
        "permit.html",
        {
            "permit": found,
            "application": found.application,
            "address": Property.objects.get(pk=found.property_id).single_line(),
            "proofs": found.proofs.all(),
            "events": found.application.events.select_related("actor"),
            "form": form if request.method == "POST" else None,
            "cancel_form": form,
            "notices": list(messages.get_messages(request)),
            "page_title": f"Permit {found.number}",
        },
    )


@data_use(touches=RESIDENT_DATA, purposes=["staff_view_records"])
@staff_area("parking")
@require_GET
def proof_file(request: HttpRequest, proof_id: int) -> HttpResponse:
    """A document a resident sent as proof, downloaded (never shown inline: it is the
    resident's file), with the view written to the data-use log."""
    proof = ProofUpload.objects.filter(pk=proof_id).select_related("permit__application").first()
    if proof is None:
        raise Http404("No proof has that number.")
    _logged_view(request, proof.permit.application)
    extension = proof.file.name.rsplit(".", 1)[-1]
    return FileResponse(
        proof.file.open("rb"),
        as_attachment=True,
        filename=f"{proof.permit.number}-{proof.kind}.{extension}",
        content_type=proof.content_type,
    )
