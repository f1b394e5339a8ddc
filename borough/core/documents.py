"""Checking a document a resident uploads (a photo or scan of a bill, a PDF) before it is kept.

A file is what a library can open it as, not what its name, its browser content type or its
first bytes say: images are opened and decoded whole by Pillow, PDFs parsed strictly by pypdf.
Refused, each with its own message: anything else (an executable renamed ``bill.pdf``), a file
cut short, a file with something joined to its end (a polyglot: an image or PDF that is also a
zip, a script or another PDF), an image whose pixels would take more memory than a document
needs (a decompression bomb), and a PDF with a password, scripts, attached files or too many
pages. Messages follow the GOV.UK file upload pattern ("The selected file ...").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import BinaryIO

from PIL import Image, UnidentifiedImageError
from pypdf import PdfReader
from pypdf.errors import PyPdfError

# A phone photo is 12 megapixels and an A4 page scanned at 600 dpi 35: 40 is ample, and decoding
# it takes ~120 MB. Pillow's own guard is far higher (89 megapixels warns, 179 refuses).
MAX_IMAGE_PIXELS = 40_000_000
MAX_PDF_PAGES = 50

PNG_END = b"IEND\xaeB`\x82"
JPEG_END = b"\xff\xd9"
PDF_START = b"%PDF-"
PDF_END = re.compile(rb"%%EOF[\s\x00]*\Z")
# Actions and parts of a PDF that run or carry something besides the page.
PDF_ACTIVE_KEYS = ("/JavaScript", "/JS", "/Launch", "/EmbeddedFiles", "/EmbeddedFile", "/XFA")

KINDS = {"JPEG": ("image/jpeg", "jpg"), "MPO": ("image/jpeg", "jpg"), "PNG": ("image/png", "png")}


@dataclass(frozen=True)
class Document:
    content_type: str
    extension: str
    pages: int = 1


class DocumentProblem(Exception):
    """Why a document was refused, in words for the person who sent it."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.message = message
        self.code = code


NOT_A_DOCUMENT = "The selected file must be a PDF, JPG or PNG"
DAMAGED = (
    "The selected file is damaged or incomplete. Save or scan it again and upload the new file"
)
JOINED = (
    "The selected file has something else joined to it. Save it again as a PDF, JPG or PNG, "
    "or take a photo of the document, and upload the new file"
)


def check_document(handle: BinaryIO) -> Document:
    """Open ``handle`` (a whole uploaded file, seekable) as a PDF or an image and check it all;
    raise ``DocumentProblem`` saying what is wrong. Leaves ``handle`` at its start."""
    handle.seek(0)
    data = handle.read()
    handle.seek(0)
    if not data:
        raise DocumentProblem("The selected file is empty", "empty")
    if data.startswith(PDF_START):
        return _check_pdf(data, handle)
    return _check_image(data, handle)


def _check_pdf(data: bytes, handle: BinaryIO) -> Document:
    if not PDF_END.search(data[-1024:]):
        # Either cut short (no end-of-file marker) or followed by another file's bytes.
        raise DocumentProblem(JOINED if b"%%EOF" in data else DAMAGED, "pdf_end")
    if data.find(PDF_START, 1) != -1:
        # A second PDF header: another document joined on (a genuine update adds no header).
        raise DocumentProblem(JOINED, "pdf_joined")
    try:
        reader = PdfReader(handle, strict=True)
        if reader.is_encrypted:
            raise DocumentProblem(
                "The selected PDF is protected with a password. Upload a copy without a password",
                "encrypted",
            )
        pages = len(reader.pages)
        if pages == 0:
            raise DocumentProblem(DAMAGED, "no_pages")
        if pages > MAX_PDF_PAGES:
            raise DocumentProblem(
                f"The selected PDF has {pages} pages. Upload the pages that show your name "
                f"and address, {MAX_PDF_PAGES} pages or fewer",
                "pages",
            )
        for page in reader.pages:
            page.mediabox  # noqa: B018 (reading each page's box parses the page)
        active = _active_content(reader)
    except DocumentProblem:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, RecursionError):
        raise DocumentProblem(DAMAGED, "pdf_unreadable") from None
    finally:
        handle.seek(0)
    if active:
        raise DocumentProblem(
            "The selected PDF contains scripts or attached files. Print it to a new PDF, "
            "or take a photo of the document, and upload that",
            "pdf_active",
        )
    return Document("application/pdf", "pdf", pages)


def _active_content(reader: PdfReader) -> bool:
    """Whether any object in the PDF is JavaScript, a launch action or an attached file."""
    for number in range(1, _xref_size(reader)):
        try:
            obj = reader.get_object(number)
        except Exception:  # noqa: S112 (a free or missing entry: nothing to look at)
            continue
        if hasattr(obj, "keys") and any(key in obj for key in PDF_ACTIVE_KEYS):
            return True
        if hasattr(obj, "get") and obj.get("/S") in ("/JavaScript", "/Launch"):
            return True
    return False


def _xref_size(reader: PdfReader) -> int:
    size = reader.trailer.get("/Size", 0)
    return min(int(size), 1_000_000)


def _check_image(data: bytes, handle: BinaryIO) -> Document:
    try:
        # Pillow reads only the header here; its own bomb guard (far above ours) may refuse.
        image = Image.open(handle)
        kind = KINDS.get(image.format or "")
        if kind is None:
            raise DocumentProblem(NOT_A_DOCUMENT, "type")
        width, height = image.size
        if width * height > MAX_IMAGE_PIXELS:
            raise _too_many_pixels(width, height)
        if getattr(image, "n_frames", 1) > 1 and image.format == "PNG":
            raise DocumentProblem(
                "The selected image is animated. Upload a photo or scan", "animated"
            )
        image.load()  # decodes every pixel: a file cut short fails here
    except DocumentProblem:
        raise
    except Image.DecompressionBombError:
        raise _too_many_pixels(0, 0) from None
    except UnidentifiedImageError:
        raise DocumentProblem(NOT_A_DOCUMENT, "type") from None
    except (OSError, ValueError, SyntaxError, EOFError):
        raise DocumentProblem(DAMAGED, "image_unreadable") from None
    finally:
        handle.seek(0)
    end = PNG_END if image.format == "PNG" else JPEG_END
    body = data.rstrip(b"\x00") if end == JPEG_END else data  # some cameras pad JPEGs
    if not body.endswith(end):
        raise DocumentProblem(JOINED, "joined")
    return Document(*kind)


def _too_many_pixels(width: int, height: int) -> DocumentProblem:
    size = f" ({width:,} by {height:,} pixels)" if width else ""
    return DocumentProblem(
        f"The selected image is too large{size}. Upload a photo or scan of "
        f"{MAX_IMAGE_PIXELS // 1_000_000} megapixels or fewer, like one taken with a phone",
        "pixels",
    )
