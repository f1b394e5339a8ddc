from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models

from borough.core.dates import date_and_time_in_words, date_in_words


class AccountKind(models.TextChoices):
    STAFF = "staff", "Staff"
    RESIDENT = "resident", "Resident"


class BoroughUserManager(UserManager):
    def create_resident(self, email: str) -> "User":
        """A resident account: signs in by magic link or OpenID Connect, never by password."""
        email = self.normalize_email(email).lower()
        user = self.model(username=f"resident:{email}", email=email, kind=AccountKind.RESIDENT)
        user.set_unusable_password()
        user.save(using=self._db)
        return user

    def residents(self):
        return self.filter(kind=AccountKind.RESIDENT)

    def staff(self):
        return self.filter(kind=AccountKind.STAFF)


class User(AbstractUser):
    """Residents and staff are different kinds of account.

    A resident can never hold a role, be ``is_staff`` or reach staff pages: ``clean`` and ``save``
    refuse it, and the access middleware checks the kind on every staff request.
    """

    kind = models.CharField(max_length=10, choices=AccountKind.choices, default=AccountKind.STAFF)

    objects = BoroughUserManager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(kind="resident", is_staff=True)
                & ~models.Q(kind="resident", is_superuser=True),
                name="resident_is_never_staff",
            ),
            models.UniqueConstraint(
                fields=["email"],
                condition=models.Q(kind="resident"),
                name="one_resident_account_per_email",
            ),
        ]

    @property
    def is_resident(self) -> bool:
        return self.kind == AccountKind.RESIDENT

    @property
    def is_staff_member(self) -> bool:
        return self.kind == AccountKind.STAFF and self.is_active


class Feedback(models.Model):
    """What people tell us through the phase banner's feedback link."""

    class Satisfaction(models.IntegerChoices):
        VERY_SATISFIED = 5, "Very satisfied"
        SATISFIED = 4, "Satisfied"
        NEITHER = 3, "Neither satisfied or dissatisfied"
        DISSATISFIED = 2, "Dissatisfied"
        VERY_DISSATISFIED = 1, "Very dissatisfied"

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    satisfaction = models.PositiveSmallIntegerField(choices=Satisfaction.choices)
    comments = models.TextField(blank=True)
    page = models.CharField(max_length=500, blank=True, help_text="The page the person came from")

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "feedback"

    def __str__(self) -> str:
        return f"{self.get_satisfaction_display()} on {date_in_words(self.created_at)}"


class ApiClient(models.Model):
    """A machine client of the JSON API (another council system, an enforcement device).

    It sends ``Authorization: Bearer <key>``. Only the key's SHA-256 is stored; the key is shown
    once, when made (``borough apiclient create``). ``scopes`` says which endpoints it may call
    (``verify``, …) and ``purposes`` for which data-use purposes; a revoked key is refused within 5 seconds
    (web processes keep a client they found for 5 s: ``api_clients.CLIENT_CACHE_SECONDS``).
    """

    name = models.CharField(max_length=120, unique=True, help_text="Shown in the data-use log")
    key_prefix = models.CharField(
        max_length=12, unique=True, help_text="First characters, to tell keys apart"
    )
    key_sha256 = models.CharField(max_length=64, unique=True)
    scopes = models.JSONField(default=list)
    purposes = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        "core.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    requests_per_minute = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="This client's rate limit on each endpoint; empty: the default (docs/rate-limits.md)",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class StaffSignInLock(models.Model):
    """Failed staff sign-ins in a row for a username, and whether it is locked (``lockout.py``).

    Kept by the username typed, whether or not an account has it, so that locking does not tell
    an attacker which usernames exist. In the database, not a cache: a restart or another web
    process does not reset it.
    """

    username = models.CharField(max_length=150, unique=True)
    failures = models.PositiveIntegerField(default=0)
    last_failure_at = models.DateTimeField(null=True, blank=True, db_index=True)
    locked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-locked_at", "-last_failure_at"]
        verbose_name = "staff sign-in lock"

    def __str__(self) -> str:
        state = "locked" if self.locked_at else f"{self.failures} failed"
        return f"{self.username} ({state})"


class UsedMagicLink(models.Model):
    """The one-time number of each magic link that has been used (``magic_links.py``).

    A link carries its email address and this number, signed; using it inserts the number here,
    so a second use finds it and is refused. Rows older than a link's lifetime are deleted: an
    expired link is refused by its signature's age anyway.
    """

    nonce = models.CharField(max_length=32, primary_key=True)
    used_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"link used {date_and_time_in_words(self.used_at)}"


class RateLimitCounter(models.Model):
    """Requests counted against a rate limit in its current window (``ratelimit.py``).

    One row per limit and key (a hash: no email address or client address is stored). Written by
    one ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` statement, so two web processes counting at
    once never both read the same count.
    """

    bucket = models.CharField(max_length=64, primary_key=True)
    period = models.BigIntegerField(help_text="The window's number: Unix time // its length")
    hits = models.PositiveIntegerField()
    expires_at = models.BigIntegerField(db_index=True, help_text="Unix time the window ends")

    def __str__(self) -> str:
        return f"{self.hits} in window {self.period}"


class EmailChange(models.Model):
    """A resident changed their account's email address, after confirming the new one by a
    link sent to it (``email_change.py``). Kept so the account page and the council can say
    when and from what it changed."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="email_changes")
    from_email = models.EmailField()
    to_email = models.EmailField()
    changed_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-changed_at"]

    def __str__(self) -> str:
        return f"Email address changed on {date_in_words(self.changed_at)}"
