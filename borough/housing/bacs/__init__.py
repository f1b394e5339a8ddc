"""Bacs Direct Debit for rent accounts: pure Python, no models.

- ``calendar``: Bacs working days (England and Wales bank holidays), the 3-day cycle and the
  earliest first collection after a mandate.
- ``modulus``: sort code and account number checks (Vocalink modulus, via ``uk-mod-check``).
- ``standard18``: the Bacs Standard 18 layout (every position, value and code list, as data),
  the inputs and the shared rules; ``standard18_writer`` writes a file from them and
  ``standard18_validator`` checks one independently, from its text alone.
- ``reports``: parsers for the ARUDD, ADDACS and AUDDIS reports a bureau returns.

See ``docs/direct-debit.md`` for what is checked against a specification and what comes from the
domain brief.
"""
