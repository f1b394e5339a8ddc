"""An ordinary event's leaf hash written by PostgreSQL itself: the fast filter of ``verify``.

``leaf_hash_sql()`` is an SQL expression over an event (alias ``e``) joined to its sealed leaf
(alias ``l``) that gives SHA-256(0x00 ‖ leaf), the leaf being the bytes ``sealing.v1_leaf``
writes, or NULL. ``verify`` on PostgreSQL compares it with ``l.leaf_hash`` in the database and
reads into Python only the events where it is NULL or differs (and those without a leaf);
Python recomputes each of those with ``sealing.leaf_bytes`` and is the authority on them.

Why a match in SQL is as good as a match in Python. The expression is NULL unless

* the event is ordinary (``restriction_reason_code = ''``: a restricted event's leaf is a salted
  commitment, left to Python), it has a leaf, and
* ``datasets_read`` is a JSON array whose elements are all strings.

When it is not NULL, the text it hashes *is* ``v1_leaf`` of the stored row, byte for byte, not
merely something like it:

* the keys are written in ``v1_leaf``'s (sorted) order, each once, with its ``:`` and ``,``;
* each string value is ``to_json(value)::text``: PostgreSQL's ``escape_json`` (PostgreSQL 15,
  ``src/backend/utils/adt/json.c``) writes ``\\"``, ``\\\\``, ``\\b``, ``\\f``, ``\\n``, ``\\r``,
  ``\\t``, every other character below U+0020 as ``\\u00xx`` (lower-case hex) and everything else
  as it is (DEL, non-ASCII, U+2028 unescaped): what ``json.encoder.encode_basestring`` (the
  escaper of ``json.dumps(ensure_ascii=False)``) writes for the same string;
* ``action_id`` is the UUID's ``::text`` (lower case, hyphenated), as ``str(uuid)``;
* ``occurred_at`` is ``sealing.OCCURRED_AT_SQL``, the very text ``select_events`` hands Python;
* ``actor_user`` is the integer's text or ``null``; ``position`` the integer's text;
* ``datasets_read`` is the ``jsonb`` text with each ``", "`` turned into ``","``. In ``jsonb``'s
  text of an array of strings a ``"`` inside a string is always written ``\\"``, so ``", "``
  (quote, comma, space, quote) only occurs between two elements: what is left is
  ``[`` + the elements, each escaped by ``escape_json``, joined by ``,`` + ``]``: what
  ``sealing.datasets_fragment`` writes for that list;
* the text is encoded as UTF-8 (``convert_to``), as ``v1_leaf`` encodes it.

So a changed event whose SQL hash equals its sealed hash would be a changed event whose
``v1_leaf`` hashes to the sealed hash, which Python would pass too: the filter can only send an
event to Python (slower), never let through one Python would flag. The encoding is also
injective on its own (every field of the leaf is in the text, each string JSON-quoted, the keys
fixed and in a fixed order, so the text parses back to exactly one row). The test
``test_leaf_sql.py`` holds the text byte-identical to ``leaf_bytes`` for awkward values.
"""

from __future__ import annotations

from borough.transparency.sealing import LEAF_VERSION, OCCURRED_AT_SQL


def _string(column: str) -> str:
    return f"to_json(e.{column})::text"


#: ``datasets_read`` as it stands in the leaf, or NULL when it is not an array of strings.
#: ``strict``: in the default lax mode the filter would look inside a nested array and pass
#: ``[["a"]]`` as strings.
DATASETS_SQL = (
    "CASE WHEN jsonb_typeof(e.datasets_read) = 'array' AND NOT jsonb_path_exists("
    "e.datasets_read, 'strict $[*] ? (@.type() != \"string\")') "
    "THEN replace(e.datasets_read::text, '\", \"', '\",\"') END"
)


def leaf_text_sql(position: str = "l.position") -> str:
    """The SQL text of an ordinary event's leaf (see the module's docstring), ``position`` the
    SQL of its position; NULL if ``datasets_read`` is not an array of strings."""
    parts = [
        "'{\"action\":'",
        _string("action"),
        '\',"action_id":"\'',
        "e.action_id::text",
        '\'","actor_kind":\'',
        _string("actor_kind"),
        "',\"actor_label\":'",
        _string("actor_label"),
        "',\"actor_user\":'",
        "coalesce(e.actor_user_id::text, 'null')",
        "',\"datasets_read\":'",
        DATASETS_SQL,
        "',\"lawful_basis\":'",
        _string("lawful_basis"),
        "',\"lawful_basis_text\":'",
        _string("lawful_basis_text"),
        '\',"occurred_at":"\'',
        OCCURRED_AT_SQL,
        '\'","outcome":\'',
        _string("outcome"),
        "',\"position\":'",
        f"{position}::text",
        "',\"purpose\":'",
        _string("purpose"),
        "',\"purpose_text\":'",
        _string("purpose_text"),
        "',\"reference\":'",
        _string("reference"),
        "',\"service\":'",
        _string("service"),
        "',\"subject_resident_id\":'",
        _string("subject_resident_id"),
        f"',\"v\":{LEAF_VERSION}}}'",
    ]
    # ``||`` (not concat()): any NULL part makes the whole text NULL, so the row goes to Python.
    return "(" + " || ".join(parts) + ")"


def leaf_hash_sql(position: str = "l.position") -> str:
    """SHA-256(0x00 ‖ leaf) of an ordinary event, computed by PostgreSQL; NULL for a restricted
    event, one without a leaf or one whose ``datasets_read`` is not an array of strings."""
    return (
        "CASE WHEN e.restriction_reason_code = '' THEN "
        f"sha256('\\x00'::bytea || convert_to({leaf_text_sql(position)}, 'UTF8')) END"
    )
