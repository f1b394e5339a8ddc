"""Uploaded documents are opened by a library and refused with a message when they are not
what they claim: renamed executables, files cut short, polyglots, decompression bombs."""

import io
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader, PdfWriter
from pypdf.actions import JavaScript

from borough.core.documents import (
    DAMAGED,
    JOINED,
    MAX_IMAGE_PIXELS,
    NOT_A_DOCUMENT,
    DocumentProblem,
    check_document,
)
from borough.core.tests.sample_documents import a_zip, image, pdf, png_bomb


def _check(data: bytes):
    return check_document(io.BytesIO(data))


def _refused(data: bytes) -> DocumentProblem:
    with pytest.raises(DocumentProblem) as caught:
        _check(data)
    return caught.value


# -- what is taken ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "content_type", "extension"),
    [
        (pdf(), "application/pdf", "pdf"),
        (image("PNG"), "image/png", "png"),
        (image("JPEG"), "image/jpeg", "jpg"),
        (image("JPEG") + b"\x00" * 64, "image/jpeg", "jpg"),  # padded by the camera
    ],
    ids=["pdf", "png", "jpeg", "padded-jpeg"],
)
def test_real_documents_are_taken(data, content_type, extension):
    document = _check(data)
    assert (document.content_type, document.extension) == (content_type, extension)


def test_a_pdf_with_a_few_pages_is_taken_and_counted():
    assert _check(pdf(pages=3)).pages == 3


# -- what is refused --------------------------------------------------------------------------


def test_an_executable_renamed_as_a_pdf_is_refused():
    assert _refused(Path("/bin/true").read_bytes()).message == NOT_A_DOCUMENT


def test_an_executable_given_a_pdf_header_is_refused():
    problem = _refused(b"%PDF-1.7\n" + Path("/bin/true").read_bytes())
    assert problem.message == DAMAGED


def test_text_with_an_image_header_is_refused():
    """Today's first-bytes check took this: a PNG signature and then anything."""
    assert _refused(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100).message in (DAMAGED, NOT_A_DOCUMENT)


def test_a_truncated_pdf_is_refused():
    whole = pdf()
    assert _refused(whole[: len(whole) // 2]).message == DAMAGED


def test_a_pdf_with_its_cross_reference_table_cut_out_is_refused():
    whole = pdf()
    start = whole.index(b"\nxref\n") + 1
    end = whole.index(b"trailer")
    assert _refused(whole[:start] + whole[end:]).message == DAMAGED


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_a_truncated_image_is_refused(fmt):
    whole = image(fmt, size=(600, 400))
    assert _refused(whole[: len(whole) - 200]).message == DAMAGED


@pytest.mark.parametrize(
    "data",
    [
        pdf() + a_zip(),
        image("PNG") + a_zip(),
        image("JPEG") + pdf(),
        image("JPEG") + b"<html><script>alert(1)</script></html>",
        pdf() + pdf(),
    ],
    ids=["pdf+zip", "png+zip", "jpeg+pdf", "jpeg+html", "pdf+pdf"],
)
def test_a_polyglot_is_refused(data):
    assert _refused(data).message == JOINED


def test_an_image_bomb_beyond_pillows_own_limit_is_refused():
    bomb = png_bomb(20_000, 20_000)  # 400 megapixels in a few kilobytes
    assert len(bomb) < 100_000
    problem = _refused(bomb)
    assert problem.code == "pixels" and "too large" in problem.message


def test_an_image_bigger_than_a_document_needs_is_refused_before_decoding():
    bomb = png_bomb(8_000, 8_000)  # 64 megapixels: below Pillow's guard, above ours
    assert 8_000 * 8_000 > MAX_IMAGE_PIXELS
    problem = _refused(bomb)
    assert problem.code == "pixels" and "8,000 by 8,000 pixels" in problem.message


def test_a_password_protected_pdf_is_refused():
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf())))
    writer.encrypt("secret")
    out = io.BytesIO()
    writer.write(out)
    assert "password" in _refused(out.getvalue()).message


def test_a_pdf_with_javascript_is_refused():
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf())))
    writer.add_open_action(JavaScript("app.alert('hello');"))
    out = io.BytesIO()
    writer.write(out)
    assert "scripts or attached files" in _refused(out.getvalue()).message


def test_a_pdf_with_an_attached_file_is_refused():
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf())))
    writer.add_attachment("run.exe", Path("/bin/true").read_bytes())
    out = io.BytesIO()
    writer.write(out)
    assert "scripts or attached files" in _refused(out.getvalue()).message


def test_a_pdf_with_too_many_pages_is_refused():
    assert "51 pages" in _refused(pdf(pages=51)).message


def test_an_animated_png_is_refused():
    frames = [Image.new("RGB", (50, 50), colour) for colour in ("red", "blue")]
    out = io.BytesIO()
    frames[0].save(out, "PNG", save_all=True, append_images=frames[1:])
    assert "animated" in _refused(out.getvalue()).message


def test_an_empty_file_is_refused():
    assert _refused(b"").message == "The selected file is empty"


@pytest.mark.parametrize("fmt", ["GIF", "BMP", "TIFF"])
def test_other_image_formats_are_refused(fmt):
    assert _refused(image(fmt)).message == NOT_A_DOCUMENT
