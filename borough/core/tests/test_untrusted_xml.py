"""XML from outside the council is read one way: no DTD, so no entity, whoever reads it."""

import io

import pytest
from defusedxml import DefusedXmlException

from borough.core import untrusted_xml

BOMB = (
    b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">'
    b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><x>&b;</x>'
)
EXTERNAL = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'
PLAIN_DTD = b'<?xml version="1.0"?><!DOCTYPE x SYSTEM "http://example.org/x.dtd"><x/>'


@pytest.mark.parametrize("data", [BOMB, EXTERNAL, PLAIN_DTD])
def test_a_document_with_a_dtd_is_refused_before_its_content_is_seen(data):
    seen = []
    with pytest.raises(DefusedXmlException):
        for event in untrusted_xml.iterparse(io.BytesIO(data)):
            seen.append(event)
    assert seen == []
    with pytest.raises(DefusedXmlException):
        untrusted_xml.fromstring(data)


def test_bank_statements_and_bacs_reports_read_xml_through_the_same_function():
    from borough.housing.bacs import reports
    from borough.housing.statements import camt053

    assert reports.fromstring is untrusted_xml.fromstring
    assert camt053.untrusted_xml is untrusted_xml


def test_a_plain_document_is_read():
    root = untrusted_xml.fromstring(
        '<?xml version="1.0" encoding="UTF-8"?><a><!-- c --><b>1</b></a>'
    )
    assert [child.tag for child in root] == ["b"]  # comments dropped


def test_billion_laughs_is_refused_as_a_dtd_before_any_entity_is_expanded():
    """A small file is read by libxml2 in one chunk, its entities expanded before the first
    event: the DTD must be refused before that, whatever elements the pass asks for."""
    from pathlib import Path

    from defusedxml import DTDForbidden

    from borough.core.untrusted_xml import iterparse

    path = Path(__file__).with_name("billion_laughs.xml")
    with pytest.raises(DTDForbidden):
        list(iterparse(str(path), tag=("{*}Stmt", "{*}Ntry")))
    with path.open("rb") as stream, pytest.raises(DTDForbidden):
        list(iterparse(stream, tag="{*}Ntry"))
