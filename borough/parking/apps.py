from django.apps import AppConfig


def permits_for_account_page(user):
    """The resident's permits for their account page (``borough.core.account_summary``)."""
    from django.urls import reverse
    from django.utils import timezone

    from borough.core.account_summary import AccountItem, AccountSection
    from borough.core.dates import date_in_words
    from borough.parking.models import Permit
    from borough.parking.registrations import InvalidRegistration, parse_vrm

    today = timezone.localdate()
    items = []
    for permit in Permit.objects.filter(holder=user).select_related("zone").order_by("-starts_on"):
        try:
            vrm = parse_vrm(permit.vrm).display
        except InvalidRegistration:
            vrm = permit.vrm
        status, attention = permit.status, ""
        if status == Permit.Status.CANCELLED:
            detail = "Cancelled"
        elif status == Permit.Status.ENDED:
            detail = f"Renewed: ended on {date_in_words(permit.ends_on)}"
        elif status == Permit.Status.SCHEDULED:
            detail = f"Starts on {date_in_words(permit.starts_on)}"
        elif permit.ends_on < today:
            detail = f"Ended on {date_in_words(permit.ends_on)}"
        else:
            detail = f"Valid until {date_in_words(permit.ends_on)}"
            if status == Permit.Status.PROOF_NEEDED and permit.proof_due_on:
                attention = f"Send proof of address by {date_in_words(permit.proof_due_on)}"
        items.append(
            AccountItem(
                title=f"Permit {permit.number}: {vrm}, zone {permit.zone.code}",
                detail=detail,
                url=reverse("parking:permit", kwargs={"number": permit.number}),
                attention=attention,
            )
        )
    return AccountSection(
        heading="Parking permits",
        items=items,
        empty="You have no parking permits.",
        start=("Apply for a parking permit", reverse("parking:start")),
    )


class ParkingConfig(AppConfig):
    name = "borough.parking"
    label = "parking"
    verbose_name = "Parking (zones, vehicles, permits, enforcement)"

    def ready(self) -> None:
        from borough.core.account_summary import register

        register("parking", permits_for_account_page)
