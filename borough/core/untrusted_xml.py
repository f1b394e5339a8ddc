"""XML that comes from outside the council (bank statements, Bacs reports), read one way.

The rule: such a file may not carry a DTD, so it can declare no entities (no "billion laughs",
no external entity reading a local file or a URL). A file that has one is refused with
``defusedxml``'s own exceptions (``DTDForbidden``, ``EntitiesForbidden``: both
``DefusedXmlException``), as ``defusedxml`` refuses them; a file that is not well-formed raises
``xml.etree.ElementTree.ParseError``. Entities are never expanded, the network is never used and
libxml2's limits on huge documents stay on, so even a hostile file costs no more than its size.

:func:`iterparse` reads in one streaming pass (lxml), so a statement of 100,000 entries never has
to sit in memory as one tree: the caller clears each element it has read. :func:`fromstring`
reads a small document (a Bacs report) whole, through the same function.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from typing import IO, Any
from xml.etree.ElementTree import ParseError

from defusedxml import DTDForbidden, EntitiesForbidden
from lxml import etree

__all__ = ["fromstring", "iterparse"]


def _refuse_dtd(element: Any) -> None:
    docinfo = element.getroottree().docinfo
    dtd = docinfo.internalDTD
    if dtd is not None:
        for entity in dtd.iterentities():
            raise EntitiesForbidden(entity.name, entity.content, None, None, None, None)
    if docinfo.doctype:
        raise DTDForbidden(docinfo.root_name, docinfo.system_url, docinfo.public_id)


class _RootReached(Exception):
    pass


def _refuse_dtd_before_content(source: IO[bytes] | str) -> None:
    """Read only the prolog, up to the root element's start tag, and refuse a DTD there, before
    any declaration in it is acted on. expat (the standard library's) reports the DOCTYPE as it
    begins; libxml2 would read a small file's whole DTD, and expand its entities, before giving
    back its first event. A file object is put back where it was."""
    from xml.parsers import expat

    def doctype(name, system_id, public_id, has_internal_subset):
        raise DTDForbidden(name, system_id, public_id)

    def root(name, attributes):
        raise _RootReached

    parser = expat.ParserCreate()
    parser.StartDoctypeDeclHandler = doctype
    parser.StartElementHandler = root
    stream = open(source, "rb") if isinstance(source, str) else source
    start = stream.tell() if not isinstance(source, str) else None
    try:
        while chunk := stream.read(64 * 1024):
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except _RootReached:
        pass
    except expat.ExpatError as error:
        raise ParseError(str(error)) from None
    finally:
        if isinstance(source, str):
            stream.close()
        elif start is not None:
            stream.seek(start)


def iterparse(
    source: IO[bytes] | str,
    *,
    events: Iterable[str] = ("end",),
    tag: str | Iterable[str] | None = None,
) -> Iterator[tuple[str, Any]]:
    """``lxml.etree.iterparse`` over ``source`` (a binary file or a path), DTDs refused.

    ``events`` and ``tag`` are lxml's (``"{*}Ntry"`` matches any namespace). Comments and
    processing instructions are dropped. A DTD is refused before the pass starts, at the root
    element's start tag, so no entity is expanded whatever ``tag`` picks out; the pass checks
    again at its first element, for sources that cannot be read twice.
    """
    _refuse_dtd_before_content(source)
    parser = etree.iterparse(
        source,
        events=tuple(events),
        tag=tag,
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    checked = False
    try:
        for event, item in parser:
            if not checked and event in ("start", "end"):
                _refuse_dtd(item)
                checked = True
            yield event, item
        if not checked and parser.root is not None:
            _refuse_dtd(parser.root)
    except etree.XMLSyntaxError as error:
        raise ParseError(str(error)) from None


def fromstring(data: bytes | str) -> Any:
    """The root element of a whole (small) document, read by :func:`iterparse`'s rule."""
    if isinstance(data, str):
        data = data.encode("utf-8")  # from bytes, lxml honours the declared encoding
    root = None
    for _, element in iterparse(io.BytesIO(data)):
        root = element  # the last element to end is the root
    if root is None:
        raise ParseError("no element in the document")
    return root
