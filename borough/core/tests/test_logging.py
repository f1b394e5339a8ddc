import logging

from borough.core.logfilters import StripQueryStrings


def test_request_lines_are_logged_without_query_strings():
    record = logging.LogRecord(
        "django.server",
        logging.INFO,
        __file__,
        1,
        '"%s" %s %s',
        ("GET /sign-in/link?token=AbC123secret HTTP/1.1", "200", "512"),
        None,
    )
    StripQueryStrings().filter(record)
    line = record.getMessage()
    assert "AbC123secret" not in line
    assert line == '"GET /sign-in/link?… HTTP/1.1" 200 512'


def test_messages_without_arguments_are_cleaned_too():
    record = logging.LogRecord(
        "django.request",
        logging.WARNING,
        __file__,
        1,
        "Not Found: /addresses/choose?postcode=E8 1DY",
        None,
        None,
    )
    StripQueryStrings().filter(record)
    assert "E8" not in record.getMessage()
