"""A subject access export as people read it: values formatted for the HTML page and the PDF.

The PDF is tagged (headings, paragraphs, a reading order) with the statement PDF's builder
(``housing.statement_pdf``), in the core Latin-1 fonts: a character outside Latin-1 prints as
"?" in the PDF (the JSON and the HTML page keep it).
"""

from __future__ import annotations

import datetime as dt

from django.http import HttpResponse, JsonResponse
from fpdf.prefs import ViewerPreferences

from borough.core.dates import date_in_words
from borough.payments.money import format_pence


def shown(field: dict) -> str:
    """A field's value as a person reads it: money in pounds, dates in words."""
    value = field["value"]
    if field["name"].endswith("_pence") and isinstance(value, int):
        return format_pence(value, pence_always=True)
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, str) and len(value) >= 10:
        try:
            if len(value) == 10:
                return date_in_words(dt.date.fromisoformat(value))
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
        return f"{date_in_words(moment)}, {moment:%H:%M}"
    return str(value)


def attachment(document: dict, kind: str, name: str) -> HttpResponse:
    """The document as a download: ``kind`` "json" or "pdf", saved as ``name``.json or .pdf."""
    if kind == "json":
        response = JsonResponse(document, json_dumps_params={"ensure_ascii": False, "indent": 2})
    else:
        response = HttpResponse(render_pdf(document), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{name}.{kind}"'
    return response


def render_pdf(document: dict) -> bytes:
    from borough.housing.statement_pdf import _TaggedPDF

    council = document.get("council") or "The council"
    pdf = _TaggedPDF(format="A4")
    pdf.set_title(f"Your data: a copy of everything {council} holds about you")
    pdf.set_author(council)
    pdf.set_subject(f"Subject access export {document.get('reference', '')}")
    pdf.set_lang("en-GB")
    pdf.viewer_preferences = ViewerPreferences(display_doc_title=True)
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    pdf.line_of("H1", "Your data", size=20, style="B", height=10)
    generated = dt.datetime.fromisoformat(document["generated_at"])
    pdf.line_of(
        "P",
        f"Everything {council} holds about you, as it stood on {date_in_words(generated)}. "
        f"Reference {document.get('reference', '')}. Resident ID: "
        f"{', '.join(document['resident_ids'])}.",
    )
    for section in document["sections"]:
        pdf.line_of("H2", section["title"], size=15, style="B", height=9)
        pdf.line_of("P", section["about"], size=10)
        if section["note"]:
            pdf.line_of("P", section["note"], size=10)
        if not section["records"] and not section["note"]:
            pdf.line_of("P", "We hold nothing of this kind about you.", size=10)
        for record in section["records"]:
            pdf.line_of("H3", record["title"], size=11, style="B", height=7)
            pdf.line_of("P", f"Held by: {record['owner']}", size=9, height=5)
            for field in record["fields"]:
                pdf.line_of("P", f"{field['label']}: {shown(field)}", size=9, height=5)
    return bytes(pdf.output())
