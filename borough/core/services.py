"""Changes of state that belong to core: staff accounts and their roles."""

import secrets

from django.contrib.auth.models import Group
from django.db import transaction
from django.utils.text import slugify

from borough.core.models import AccountKind, User
from borough.core.roles import ROLES


class UnknownRole(ValueError):
    pass


def role_group(name: str) -> str:
    """The group for a role named as shown ("Parking officer") or as a slug ("parking-officer")."""
    wanted = slugify(name)
    for role in ROLES:
        if slugify(role.group) == wanted:
            return role.group
    choices = ", ".join(slugify(r.group) for r in ROLES)
    raise UnknownRole(f"There is no role called {name!r}. Roles: {choices}.")


@transaction.atomic
def create_staff_account(
    username: str,
    roles: list[str],
    *,
    password: str | None = None,
    email: str = "",
    full_name: str = "",
    superuser: bool = False,
) -> tuple[User, str]:
    """Create a staff account holding ``roles``; returns it with its password.

    With no password given, a random one is made (and returned once: it is stored only hashed).
    Administrators may use the Django admin, so they get ``is_staff``; so does every staff account,
    which is what separates staff from residents.
    """
    groups = [role_group(role) for role in roles]
    if User.objects.filter(username=username).exists():
        raise ValueError(f"There is already an account called {username!r}.")
    password = password or secrets.token_urlsafe(12)
    first, _, last = full_name.partition(" ")
    user = User.objects.create_user(
        username,
        email=email,
        password=password,
        first_name=first,
        last_name=last,
        kind=AccountKind.STAFF,
        is_staff=True,
        is_superuser=superuser,
    )
    # Role groups come from a data migration, but a flushed database (or a council that deleted
    # one) should not silently give someone no role.
    user.groups.set([Group.objects.get_or_create(name=name)[0] for name in groups])
    return user, password
