"""Real documents made in the test, and the malformed ones an attacker would send."""

import io
import struct
import zipfile
import zlib

from fpdf import FPDF
from PIL import Image


def pdf(pages: int = 1) -> bytes:
    document = FPDF()
    document.set_font("helvetica", size=12)
    for number in range(pages):
        document.add_page()
        document.cell(text=f"Council tax bill, page {number + 1}: 1 Kestrel House, E21 3AB")
    return bytes(document.output())


def image(fmt: str, size=(300, 200)) -> bytes:
    picture = Image.new("RGB", size, "white")
    for x in range(0, size[0], 7):
        picture.putpixel((x, x % size[1]), (11, 12, 12))
    out = io.BytesIO()
    picture.save(out, fmt)
    return out.getvalue()


def a_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("payload.js", "alert(document.cookie)")
    return out.getvalue()


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_bomb(width: int, height: int) -> bytes:
    """A real PNG of ``width`` by ``height`` black 1-bit pixels: a few kilobytes that would
    decode to far more."""
    row = b"\x00" + b"\x00" * ((width + 7) // 8)
    packer = zlib.compressobj(9)
    body = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", body)
        + _chunk(b"IEND", b"")
    )


def noisy_png(width: int, height: int, seed: int = 1) -> bytes:
    """A PNG that does not compress: about ``width * height * 3`` bytes, for size limits."""
    import random

    pixels = random.Random(seed).randbytes(width * height * 3)
    out = io.BytesIO()
    Image.frombytes("RGB", (width, height), pixels).save(out, "PNG", compress_level=1)
    return out.getvalue()
