"""Resident accounts for the datalog benchmark's timeline figures: for each resident ID, an account
that passed a verification finding that ID (the way the product links an account to a resident,
``transparency.export.proven_resident_ids``) and, where the product asks for it, entered the code
posted to the resident (``residents.history_codes``, as the demo does for its residents), signed in
on its own test client."""

from __future__ import annotations


def signed_in_clients(resident_ids: list[str], client_class) -> list:
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from borough.core.models import AccountKind, User
    from borough.residents.verification.models import Verification

    try:
        from borough.residents.history_codes import confirm_for_demo
    except ImportError:  # a version from before the code by post
        confirm_for_demo = None

    unusable = make_password(None)
    now = timezone.now()
    clients = []
    for rid in resident_ids:
        user, _ = User.objects.get_or_create(
            username=f"datalog-timeline-{rid}",
            defaults={
                "email": f"{rid.lower()}@bench.invalid",
                "password": unusable,
                "kind": AccountKind.RESIDENT,
            },
        )
        if not Verification.objects.filter(actor_user=user, resident_id=rid).exists():
            Verification.objects.create(
                purpose="parking_permit_residency_check",
                requested_at=now,
                actor_kind="resident",
                actor_user=user,
                applicant={},
                decision="verified",
                resident_id=rid,
                match_probability=0.999,
                seconds=0.1,
            )
        if confirm_for_demo is not None:
            confirm_for_demo(user)
        client = client_class()
        client.force_login(user)
        clients.append(client)
    return clients
