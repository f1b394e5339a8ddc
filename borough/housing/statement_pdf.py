"""A rent statement as a tagged PDF (fpdf2): who it is for (the tenants' names and the home's
address), the council and how to contact it, the account and period, opening and closing
balances, what Housing Benefit or Universal Credit paid, and each entry with a running balance.

Tagged for screen readers: the document has a title shown in the window, its language (en-GB),
and a structure tree (``/MarkInfo``, ``/StructTreeRoot``) that gives a logical reading order:
headings (``/H1``, ``/H2``) and paragraphs (``/P``), one paragraph for each line of the details
and for each row of the table, read across the row. fpdf2 has no public API for tagging text
(only images, links and outline sections), so ``_TaggedPDF.tagged`` uses its structure-tree
builder the way fpdf2's own image tagging does. What is not tagged: the table is not a PDF
``/Table`` (no ``/TH``/``/TD`` cells, so a screen reader reads each row as a sentence), and the
ruling lines are not marked as artifacts.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fpdf import FPDF
from fpdf.prefs import ViewerPreferences

from borough.core.dates import date_in_words
from borough.core.profile import CouncilProfile
from borough.housing.accounts import Statement, pounds

COLUMNS = (  # heading, width (mm), alignment
    ("Date", 32, "L"),
    ("Description", 62, "L"),
    ("Type", 28, "L"),
    ("Charged", 22, "R"),
    ("Paid", 22, "R"),
    ("Balance", 24, "R"),
)
ROW_HEIGHT = 6


class _TaggedPDF(FPDF):
    @contextmanager
    def tagged(self, struct_type: str, height: float) -> Iterator[None]:
        """Content drawn inside is one structure element (``H1``, ``H2``, ``P``) in reading
        order. A new page is started first if ``height`` does not fit, so that a marked sequence
        never spans two pages."""
        if self.y + height > self.page_break_trigger:
            self.add_page()
        mcid = self.struct_builder.next_mcid_for_page(self.page)
        self._add_marked_content(struct_type=f"/{struct_type}", mcid=mcid)
        self._out(f"/{struct_type} <</MCID {mcid}>> BDC")
        yield
        self._out("EMC")

    def line_of(self, struct_type: str, text: str, *, size=11, style="", height=6.5) -> None:
        self.set_font("helvetica", style, size)
        with self.tagged(struct_type, height):
            self.multi_cell(0, height, latin(text), new_x="LMARGIN", new_y="NEXT")


def latin(text: str) -> str:
    """The core PDF fonts are Latin-1: other characters become '?'."""
    return text.encode("latin-1", "replace").decode("latin-1")


def owed(pence: int) -> str:
    if pence > 0:
        return f"{pounds(pence)} owed"
    if pence < 0:
        return f"{pounds(-pence)} in credit"
    return "£0.00"


def render_statement_pdf(st: Statement, council: CouncilProfile) -> bytes:
    """The statement as tagged PDF bytes."""
    account = st.account
    tenancy = account.tenancy
    names = [
        f"{t.first_name} {t.surname}".strip()
        for t in tenancy.tenants.order_by("-lead", "surname", "first_name")
    ]
    pdf = _TaggedPDF(format="A4")
    pdf.set_title(f"Rent statement for {account.payment_reference}")
    pdf.set_author(council.name)
    pdf.set_subject(f"Rent statement, {date_in_words(st.start)} to {date_in_words(st.end)}")
    pdf.set_lang("en-GB")
    pdf.viewer_preferences = ViewerPreferences(display_doc_title=True)
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()

    pdf.line_of("H1", "Rent statement", size=18, style="B", height=10)
    pdf.line_of("P", council.name, style="B")
    pdf.ln(2)
    pdf.line_of("H2", "Statement for", size=13, style="B", height=8)
    pdf.line_of("P", " and ".join(names) if names else "The tenants")
    for line in tenancy.property.lines():
        pdf.line_of("P", line)
    pdf.ln(2)
    pdf.line_of("H2", "Your rent account", size=13, style="B", height=8)
    for line in (
        f"Payment reference: {account.payment_reference}",
        f"Period: {date_in_words(st.start)} to {date_in_words(st.end)}",
        f"Opening balance: {owed(st.opening_pence)}",
        f"Closing balance: {owed(st.closing_pence)}",
        f"Housing Benefit or Universal Credit received: {pounds(st.benefit_pence)}",
    ):
        pdf.line_of("P", line)
    pdf.ln(2)
    pdf.line_of("H2", "Transactions", size=13, style="B", height=8)
    _table(pdf, st)
    pdf.ln(4)
    contact = council.contact
    pdf.line_of("H2", "Contact us", size=13, style="B", height=8)
    pdf.line_of("P", f"{council.name}, {contact.address}")
    pdf.line_of("P", f"Telephone: {contact.phone}")
    if contact.opening_hours:
        pdf.line_of("P", contact.opening_hours)
    pdf.line_of("P", f"Email: {contact.email}")
    pdf.line_of("P", f"Website: {council.website}")
    return bytes(pdf.output())


def _row(pdf: _TaggedPDF, cells: list[str], *, bold: bool = False) -> None:
    pdf.set_font("helvetica", "B" if bold else "", 9)
    with pdf.tagged("P", ROW_HEIGHT):
        for (_heading, width, align), text in zip(COLUMNS, cells, strict=True):
            pdf.cell(width, ROW_HEIGHT, latin(text), border="B", align=align)
        pdf.ln(ROW_HEIGHT)


def _table(pdf: _TaggedPDF, st: Statement) -> None:
    headings = [heading for heading, _w, _a in COLUMNS]
    _row(pdf, headings, bold=True)
    if not st.rows:
        pdf.line_of("P", "No transactions in this period.", size=9, height=ROW_HEIGHT)
    for row in st.rows:
        if pdf.y + ROW_HEIGHT > pdf.page_break_trigger:
            pdf.add_page()
            _row(pdf, headings, bold=True)  # the headings again at the top of each page
        _row(
            pdf,
            [
                date_in_words(row.posted_on),
                row.description,
                row.kind,
                pounds(row.charge_pence) if row.charge_pence else "",
                pounds(row.paid_pence) if row.paid_pence else "",
                pounds(row.balance_pence),
            ],
        )
