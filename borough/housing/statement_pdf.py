"""A rent statement as a tagged PDF (fpdf2): who it is for (the tenants' names and the home's
address), the council and how to contact it, the account and period, opening and closing
balances, what Housing Benefit or Universal Credit paid, and each entry with a running balance.

Tagged for screen readers: the document has a title shown in the window, its language (en-GB),
and a structure tree (``/MarkInfo``, ``/StructTreeRoot``) that gives a logical reading order:
headings (``/H1``, ``/H2``), paragraphs (``/P``) for each line of the details, and the
transactions as a ``/Table`` of rows (``/TR``) of cells, the column headings ``/TH`` (repeated,
and tagged again, at the top of each page) and the entries ``/TD``. fpdf2 (2.8) has no public
API for tagging text (only images, links and outline sections), so ``_TaggedPDF`` builds the
tree with fpdf2's own structure classes, the way its image tagging does, nesting elements
(``_NestedTree`` writes every level, not only the top one). What is not tagged: the ruling
lines are not marked as artifacts, and the headings' scope (column) is left to the reader to
infer from their place in the first row.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fpdf import FPDF
from fpdf.prefs import ViewerPreferences
from fpdf.structure_tree import StructElem, StructureTreeBuilder
from fpdf.syntax import PDFObject

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


class _NestedTree(StructureTreeBuilder):
    """fpdf2's structure tree, writing nested elements too (a table's rows and cells)."""

    def __iter__(self) -> Iterator[PDFObject]:
        yield self.struct_tree_root
        yield self.doc_struct_elem
        yield self.struct_tree_root.parent_tree
        yield from _descendants(self.doc_struct_elem)


def _descendants(element: StructElem) -> Iterator[StructElem]:
    for kid in element.k:
        if isinstance(kid, StructElem):
            yield kid
            yield from _descendants(kid)


class _TaggedPDF(FPDF):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.struct_builder = _NestedTree()
        self._next_mcid: dict[int, int] = {}

    def element(self, struct_type: str, parent: StructElem | None = None) -> StructElem:
        """A structure element that holds others (a table, a row)."""
        parent = parent or self.struct_builder.doc_struct_elem
        element = StructElem(f"/{struct_type}", parent=parent, kids=[], page_number=self.page)
        element.pg = self.pages[self.page]
        parent.k.append(element)
        return element

    @contextmanager
    def tagged(
        self, struct_type: str, height: float, parent: StructElem | None = None
    ) -> Iterator[None]:
        """Content drawn inside is one structure element (``H1``, ``P``, ``TD``…) in reading
        order, under ``parent`` (the document). A new page is started first if ``height`` does
        not fit, so that a marked sequence never spans two pages."""
        if self.y + height > self.page_break_trigger:
            self.add_page()
        builder = self.struct_builder
        mcid = self._next_mcid.get(self.page, 0)
        self._next_mcid[self.page] = mcid + 1
        spid = builder.spid_per_page_number.setdefault(self.page, len(builder.spid_per_page_number))
        parent = parent or builder.doc_struct_elem
        element = StructElem(f"/{struct_type}", parent=parent, kids=[mcid], page_number=self.page)
        element.pg = self.pages[self.page]
        parent.k.append(element)
        builder.struct_tree_root.parent_tree.nums[spid].append(element)  # MCID order
        self.pages[self.page].struct_parents = spid
        self._set_min_pdf_version("1.4")  # /MarkInfo
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


def _row(pdf: _TaggedPDF, table: StructElem, cells: list[str], *, heading: bool = False) -> None:
    """One row of the table: a ``/TR`` of ``/TH`` (headings) or ``/TD`` cells."""
    if pdf.y + ROW_HEIGHT > pdf.page_break_trigger:
        pdf.add_page()
    pdf.set_font("helvetica", "B" if heading else "", 9)
    row = pdf.element("TR", table)
    for (_heading, width, align), text in zip(COLUMNS, cells, strict=True):
        with pdf.tagged("TH" if heading else "TD", ROW_HEIGHT, row):
            pdf.cell(width, ROW_HEIGHT, _fit(pdf, latin(text), width), border="B", align=align)
    pdf.ln(ROW_HEIGHT)


def _fit(pdf: FPDF, text: str, width: float) -> str:
    """The text, shortened with "..." if it would run into the next column."""
    room = width - 2 * pdf.c_margin
    if pdf.get_string_width(text) <= room:
        return text
    while text and pdf.get_string_width(text + "...") > room:
        text = text[:-1]
    return text.rstrip() + "..."


def _table(pdf: _TaggedPDF, st: Statement) -> None:
    if not st.rows:
        pdf.line_of("P", "No transactions in this period.", size=9, height=ROW_HEIGHT)
        return
    headings = [heading for heading, _w, _a in COLUMNS]
    table = pdf.element("Table")
    _row(pdf, table, headings, heading=True)
    for row in st.rows:
        if pdf.y + ROW_HEIGHT > pdf.page_break_trigger:
            pdf.add_page()
            _row(pdf, table, headings, heading=True)  # the headings again on each page
        _row(
            pdf,
            table,
            [
                date_in_words(row.posted_on),
                row.description,
                row.kind,
                pounds(row.charge_pence) if row.charge_pence else "",
                pounds(row.paid_pence) if row.paid_pence else "",
                pounds(row.balance_pence),
            ],
        )
