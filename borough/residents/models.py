"""Source datasets, their loads (snapshots) and the person records they hold.

Reads live in ``queries.py``; every change goes through ``services.load_dataset`` (records) and
``services.sync_datasets`` (the declared datasets, from ``datasets/*.toml``).
"""

from django.conf import settings
from django.db import models


class SourceDataset(models.Model):
    """A council system's export that Borough loads, as declared in its TOML file.

    The declaration (``borough/residents/datasets/<code>.toml`` or ``BOROUGH_DATASETS_DIR``) is
    the source of truth; this row is synced from it so loads and records can point at it.
    A dataset whose file has gone keeps its row and records, with ``declared`` false.
    """

    code = models.SlugField(max_length=60, unique=True)
    title = models.CharField(max_length=200)
    owner = models.CharField(max_length=200, help_text="The service or team that owns the data")
    description = models.TextField(blank=True, help_text="What it holds, for residents")
    purpose = models.TextField(blank=True, help_text="What the council uses it for, for residents")
    kept_for = models.TextField(blank=True, help_text="How long its records are kept")
    keep_after_end = models.CharField(
        max_length=20,
        blank=True,
        help_text='How long a record is kept after it ended, e.g. "6 years"; blank: never purged',
    )
    asset_owner = models.CharField(
        max_length=200, blank=True, help_text="The information asset owner: a role, not a name"
    )
    lawful_basis = models.TextField(help_text="In plain English: why the council holds this data")
    lawful_basis_reference = models.CharField(
        max_length=300,
        help_text="e.g. UK GDPR Art 6(1)(e) public task; Local Government Finance Act 1992",
    )
    proves = models.JSONField(
        default=list, help_text='What a record may be used to prove: "residency", "identity", …'
    )
    config_path = models.CharField(max_length=500, help_text="The declaration it was synced from")
    config_sha256 = models.CharField("configuration SHA-256", max_length=64)
    declared = models.BooleanField(
        default=True, help_text="False once its declaration file is no longer there"
    )
    synced_at = models.DateTimeField()

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.title} ({self.code})"


class DatasetLoad(models.Model):
    """One attempt to load an export of a dataset: loaded, failed, or already loaded.

    A successful load is a snapshot: afterwards the dataset's current records are exactly the
    records in that file.
    """

    class Status(models.TextChoices):
        LOADED = "loaded", "Loaded"
        FAILED = "failed", "Not loaded: the file has problems"
        ALREADY_LOADED = "already_loaded", "Already loaded: nothing changed"

    dataset = models.ForeignKey(SourceDataset, on_delete=models.PROTECT, related_name="loads")
    file_name = models.CharField(max_length=255)
    sha256 = models.CharField("SHA-256", max_length=64, db_index=True)
    config_sha256 = models.CharField(
        "configuration SHA-256", max_length=64, help_text="The declaration the file was read with"
    )
    status = models.CharField(max_length=20, choices=Status.choices)
    started_at = models.DateTimeField(db_index=True)
    finished_at = models.DateTimeField()
    loaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    via = models.CharField(max_length=30, help_text='"command line", "staff page", …')
    rows = models.PositiveIntegerField(default=0, help_text="Data rows in the file")
    records = models.PositiveIntegerField(default=0, help_text="Person records the rows hold")
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    ended = models.PositiveIntegerField(
        default=0, help_text="Records no longer in the export: kept, with ended_at set"
    )
    reopened = models.PositiveIntegerField(
        default=0, help_text="Ended records that came back in this export"
    )
    uprn_from_source = models.PositiveIntegerField(default=0)
    uprn_from_address = models.PositiveIntegerField(default=0)
    uprn_unmatched = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True, help_text="The first problems found")
    warning_count = models.PositiveIntegerField(default=0)
    warnings = models.JSONField(default=list, blank=True, help_text="The first warnings")
    unmatched_addresses = models.JSONField(
        default=list, blank=True, help_text="The first addresses that matched no UPRN"
    )
    set_aside_rows = models.PositiveIntegerField(
        default=0,
        help_text="Rows with problems left out, when the load was asked to set them aside",
    )
    set_aside = models.JSONField(
        default=list,
        blank=True,
        help_text="Every problem of the rows set aside: row, column, reason",
    )
    gazetteer_key = models.CharField(
        max_length=64,
        blank=True,
        help_text="The gazetteer's content hash when addresses were matched: while it is the "
        "same, a later load reuses the matches of addresses that have not changed",
    )

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.dataset.code}: {self.file_name} ({self.get_status_display()})"


class UprnMethod(models.TextChoices):
    SOURCE = "source", "From the source's UPRN"
    ADDRESS_MATCH = "address-match", "Matched from the address"
    UNMATCHED = "", "Not matched"


#: ``SourceRecord``'s fields that hold what a dataset's row says of a person, as given and
#: standardised: what a load writes (its content hash covers them, in this order) and what
#: retention blanks when the record's period ends.
SOURCE_VALUES = (
    "title",
    "first_name",
    "middle_names",
    "surname",
    "full_name",
    "sex_given",
    "date_of_birth_given",
    "uprn_given",
    "address_given",
    "postcode_given",
    "email",
    "phone",
    "national_id",
    "title_std",
    "first_name_std",
    "middle_names_std",
    "surname_std",
    "first_name_canonical",
    "sex",
    "date_of_birth",
    "postcode",
    "address_text",
    "email_std",
    "phone_std",
    "national_id_std",
    "valid_from",
    "valid_to",
    "uprn",
    "uprn_method",
    "uprn_note",
)


class SourceRecord(models.Model):
    """One person as one dataset records them: the values as given and their standard form.

    Identified by ``(dataset, record_ref)``; a row naming two people (a joint council tax
    account) gives two records, ``ACCOUNT_REF#1`` and ``ACCOUNT_REF#2``. Records are never
    deleted: one that a later export no longer holds gets ``ended_at`` (``None`` means current,
    in the latest snapshot), and once it has been ended for its dataset's ``keep_after_end``
    the retention purge anonymises it (``anonymised_at``; ``transparency.record_retention``). ``content_hash`` covers every stored value; ``changed_at`` moves
    whenever a load creates, changes, ends or reopens the record, so record linkage can take
    only what changed since it last ran.
    """

    dataset = models.ForeignKey(SourceDataset, on_delete=models.PROTECT, related_name="records")
    record_ref = models.CharField(max_length=100)
    row_number = models.PositiveIntegerField(help_text="Row in the file it was last loaded from")

    # As given by the source (blank if the dataset has no such column).
    title = models.CharField(max_length=40, blank=True)
    first_name = models.CharField(max_length=200, blank=True)
    middle_names = models.CharField(max_length=200, blank=True)
    surname = models.CharField(max_length=200, blank=True)
    full_name = models.CharField(max_length=300, blank=True)
    sex_given = models.CharField(max_length=20, blank=True)
    date_of_birth_given = models.CharField(max_length=40, blank=True)
    uprn_given = models.CharField("UPRN given", max_length=40, blank=True)
    address_given = models.CharField(max_length=500, blank=True, help_text="Lines joined by ', '")
    postcode_given = models.CharField(max_length=40, blank=True)
    email = models.CharField(max_length=254, blank=True)
    phone = models.CharField(max_length=60, blank=True)
    national_id = models.CharField(
        "identity number",
        max_length=40,
        blank=True,
        help_text="A number the person is known by across systems: National Insurance, NHS …",
    )

    # Standardised (see standardise.py).
    title_std = models.CharField(max_length=20, blank=True, help_text='"Mrs", "Dr"')
    first_name_std = models.CharField(max_length=200, blank=True)
    middle_names_std = models.CharField(max_length=200, blank=True)
    surname_std = models.CharField(max_length=200, blank=True)
    first_name_canonical = models.CharField(
        max_length=200, blank=True, help_text="Nicknames and spellings as one name: bob → robert"
    )
    sex = models.CharField(
        max_length=1,
        blank=True,
        help_text="F or M, from a sex column or the title; blank if unknown",
    )
    date_of_birth = models.DateField(null=True, blank=True)
    postcode = models.CharField(
        max_length=12,
        blank=True,
        db_index=True,
        help_text='A UK postcode as "E8 1DY", or another country\'s postal code kept as text',
    )
    uprn = models.BigIntegerField("UPRN", null=True, blank=True, db_index=True)
    uprn_method = models.CharField(
        "how the UPRN was found", max_length=20, choices=UprnMethod.choices, blank=True
    )
    uprn_note = models.CharField(
        "why no UPRN", max_length=300, blank=True, help_text="Why the address matched no UPRN"
    )
    address_text = models.CharField(max_length=500, blank=True)
    email_std = models.CharField(max_length=254, blank=True)
    phone_std = models.CharField(max_length=20, blank=True)
    national_id_std = models.CharField(
        "identity number (standard)", max_length=40, blank=True, help_text="Upper case, no spaces"
    )
    valid_from = models.DateField(null=True, blank=True)
    valid_to = models.DateField(null=True, blank=True)

    content_hash = models.CharField(max_length=32)
    first_seen_load = models.ForeignKey(
        DatasetLoad,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The load that created it",
    )
    last_seen_load = models.ForeignKey(
        DatasetLoad,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The latest load whose file held it",
    )
    changed_at = models.DateTimeField(db_index=True)
    ended_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When a load found it gone from the export; blank = current",
    )
    anonymised_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When retention blanked its personal fields and replaced its reference",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["dataset", "record_ref"], name="one_record_per_ref"),
            models.CheckConstraint(
                condition=models.Q(uprn__isnull=True, uprn_method="")
                | models.Q(uprn__gt=0, uprn_method__in=["source", "address-match"]),
                name="uprn_and_its_method_agree",
            ),
        ]
        indexes = [
            models.Index(fields=["dataset", "ended_at"]),
            models.Index(fields=["surname_std", "first_name_canonical"]),
        ]

    def __str__(self) -> str:
        return f"{self.dataset_id}:{self.record_ref}"

    @property
    def unique_id(self) -> str:
        return f"{self.dataset.code}:{self.record_ref}"

    @property
    def is_current(self) -> bool:
        return self.ended_at is None


class ReviewCase(models.Model):
    """An item in the clerical review queue, and once decided, an officer's decision.

    ``kind`` "pair": two records (``unique_id_l`` < ``unique_id_r``, each
    ``"{dataset}:{record_ref}"``) that a link scored in the uncertain band
    (``review.queue_uncertain_pairs``); an officer decides whether they are the same person.
    ``kind`` "verification" is reserved for referred verifications (their fields are the
    free ``reference`` and the nullable ones).

    Decided cases are kept for ever: they are the history of decisions, and for a pair
    decided more than once the latest decision wins (``review.clerical_decisions``, passed to
    ``link``). A pair has at most one open case.
    """

    class Kind(models.TextChoices):
        PAIR = "pair", "Record pair"
        VERIFICATION = "verification", "Referred verification"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        DECIDED = "decided", "Decided"
        CLOSED = "closed", "Closed: a later link no longer finds the match uncertain"

    class Decision(models.TextChoices):
        SAME = "same", "Same person"
        DIFFERENT = "different", "Different people"

    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.PAIR)
    reference = models.CharField(
        max_length=100, blank=True, help_text="Free reference, e.g. a referred verification's"
    )
    unique_id_l = models.CharField(
        "first record", max_length=200, blank=True, help_text='"{dataset}:{record_ref}"'
    )
    unique_id_r = models.CharField(
        "second record", max_length=200, blank=True, help_text='"{dataset}:{record_ref}"'
    )
    match_weight = models.FloatField(
        null=True, blank=True, help_text="Bits of evidence, prior included, in the link run"
    )
    match_probability = models.FloatField(null=True, blank=True)
    breakdown = models.JSONField(
        default=list,
        blank=True,
        help_text='What each comparison added to the match weight: [{"comparison", "bits"}]',
    )
    linked_at = models.DateTimeField(
        null=True, blank=True, help_text="The link run whose scores the case holds"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    decision = models.CharField(max_length=10, choices=Decision.choices, blank=True)
    note = models.CharField(max_length=500, blank=True, help_text="The officer's note")
    # PROTECT: a decision must say who made it for as long as it is kept.
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "unique_id_l", "unique_id_r"],
                condition=models.Q(status="open", kind="pair"),
                name="one_open_review_case_per_pair",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="pair")
                | models.Q(unique_id_l__lt=models.F("unique_id_r")),
                name="review_pair_ordered",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    status="decided",
                    decision__in=["same", "different"],
                    decided_at__isnull=False,
                )
                | (~models.Q(status="decided") & models.Q(decision="")),
                name="review_decision_iff_decided",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "kind"]),
            models.Index(fields=["unique_id_l", "unique_id_r"]),
        ]

    def __str__(self) -> str:
        if self.kind == self.Kind.PAIR:
            return f"{self.unique_id_l} / {self.unique_id_r} ({self.status})"
        return f"{self.get_kind_display()} {self.reference} ({self.status})"

    @property
    def prior_bits(self) -> float | None:
        """The prior's part of the match weight: the weight less what the comparisons added."""
        if self.match_weight is None:
            return None
        return self.match_weight - sum(part["bits"] for part in self.breakdown)


# Verifications live in their own module; imported here so they belong to this app.
from borough.residents.verification.models import (  # noqa: E402, F401
    CheckTarget,
    FailedCheck,
    HistoryCode,
    Verification,
)
