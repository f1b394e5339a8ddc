"""Housing officers' screens: find a rent account, its ledger, tenants and arrangements; set up
an arrangement. Every page that shows a tenant's account writes a ``staff_view_records`` event
to the data-use log."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from borough.core.access import staff_area
from borough.core.roles import may_enter
from borough.housing import accounts, ledger_sources, linking, reconcile, services
from borough.housing.models import LedgerEntry, PaymentArrangement, RentAccount, Tenant
from borough.transparency.coverage import RESIDENT_DATA, data_use

PAGE = 50


def _render(request, template, context):
    return render(request, f"housing/staff/{template}", {"pounds": accounts.pounds, **context})


class ArrangementForm(forms.Form):
    amount = forms.DecimalField(
        label="Amount towards the arrears, in pounds",
        min_value=1,
        max_digits=8,
        decimal_places=2,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "class": "govuk-input--width-5"}),
        error_messages={
            "required": "Enter the amount, like 10.00",
            "invalid": "Enter the amount in pounds, like 10.00",
            "min_value": "The amount must be at least £1",
            "max_decimal_places": "Enter the amount in pounds and pence, like 10.50",
            "max_digits": "The amount is too large",
        },
    )
    frequency = forms.ChoiceField(
        label="How often",
        choices=PaymentArrangement.Frequency.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select how often", "invalid_choice": "Select how often"},
    )


@data_use(touches=RESIDENT_DATA, purposes=["staff_view_records"])
@staff_area("housing", "finance")
@require_GET
def search(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:100]
    results = None
    if query:
        compact = "".join(query.split()).upper()
        words = query.split()
        names = Q()
        for word in words:
            names &= Q(tenancy__tenants__first_name__icontains=word) | Q(
                tenancy__tenants__surname__icontains=word
            )
        results = (
            RentAccount.objects.filter(
                Q(payment_reference=compact)
                | Q(tenancy__reference__iexact=query)
                | Q(tenancy__property__postcode__iexact=query)
                | names
            )
            .select_related("tenancy__property")
            .distinct()[:PAGE]
        )
        accounts.record_staff_view(
            request.user, {found.tenancy_id for found in results}, reference="rent-account-search"
        )
    return _render(
        request, "search.html", {"query": query, "results": results, "page_title": "Rent accounts"}
    )


@data_use(touches=RESIDENT_DATA, purposes=["staff_view_records"])
@staff_area("housing", "finance")
@require_http_methods(["GET", "POST"])
def account(request: HttpRequest, reference: str) -> HttpResponse:
    found = (
        RentAccount.objects.filter(payment_reference=reference)
        .select_related("tenancy__property")
        .first()
    )
    if found is None:
        raise Http404("No rent account has that reference.")
    today = timezone.localdate()
    form = ArrangementForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        owed = services.balance_pence(found)
        if owed <= 0:
            form.add_error("amount", "This account has no arrears to clear")
        else:
            PaymentArrangement.objects.filter(
                account=found, status__in=["live", "breached"]
            ).update(status="cancelled")
            PaymentArrangement.objects.create(
                account=found,
                amount_pence=int(form.cleaned_data["amount"] * 100),
                frequency=form.cleaned_data["frequency"],
                start_date=today + dt.timedelta(days=(7 - today.weekday()) % 7),
                start_balance_pence=owed,
                created_by=request.user,
            )
            return redirect("housing:staff-account", reference=found.payment_reference)
    accounts.record_staff_view(request.user, [found.tenancy_id], reference=found.payment_reference)
    entries = (
        LedgerEntry.objects.filter(account=found)
        .select_related("created_by")
        .order_by("-posted_on", "-id")
    )
    page = Paginator(entries, PAGE).get_page(request.GET.get("page"))
    names = ledger_sources.charge_names()
    shown = list(page.object_list)
    where = ledger_sources.sources(shown, finance=may_enter(request.user, "finance"))
    ledger = [
        {"entry": e, "type": ledger_sources.entry_type(e, names), "source": where[e.pk]}
        for e in shown
    ]
    weekly = [
        (names.get(code, code), pence)
        for code, pence in services.weekly_charge_pence(found, today).items()
    ]
    arrangements = list(found.arrangements.select_related("created_by"))
    checks = {
        a.pk: services.check_arrangement(a, today=today)
        for a in arrangements
        if a.status in ("live", "breached")
    }
    return _render(
        request,
        "account.html",
        {
            "account": found,
            "tenants": found.tenancy.tenants.select_related("account"),
            "may_unlink": may_enter(request.user, "housing"),
            "balance": services.balance_pence(found),
            "weekly": weekly,
            "page_obj": page,
            "ledger": ledger,
            "arrangements": arrangements,
            "checks": checks,
            "standing_order": reconcile.check_standing_order(found, today=today),
            "form": form if request.method == "POST" else None,
            "arrangement_form": form,
            "page_title": f"Rent account {found.payment_reference}",
        },
    )


@data_use(touches=RESIDENT_DATA, purposes=["staff_view_records"])
@staff_area("housing")
@require_http_methods(["GET", "POST"])
def unlink(request: HttpRequest, reference: str, tenant_id: int) -> HttpResponse:
    """A housing officer removes a tenant's online account (``linking.unlink_by_officer``),
    after a page that asks them to confirm."""
    tenant = get_object_or_404(
        Tenant.objects.select_related("account"),
        pk=tenant_id,
        tenancy__rent_account__payment_reference=reference,
    )
    accounts.record_staff_view(request.user, [tenant.tenancy_id], reference=reference)
    if request.method == "POST":
        linking.unlink_by_officer(tenant, request.user)
        return redirect("housing:staff-account", reference=reference)
    if tenant.account is None:
        return redirect("housing:staff-account", reference=reference)
    return _render(
        request,
        "unlink.html",
        {
            "tenant": tenant,
            "reference": reference,
            "page_title": "Remove this online account from the rent account?",
        },
    )
