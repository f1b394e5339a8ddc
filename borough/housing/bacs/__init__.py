"""Bacs Direct Debit for rent accounts: pure Python, no models.

- ``calendar``: Bacs working days (England and Wales bank holidays), the 3-day cycle and the
  earliest first collection after a mandate.
- ``modulus``: sort code and account number checks (Vocalink modulus, via ``uk-mod-check``).
- ``standard18``: the Bacs Standard 18 writer and an independent validator.
- ``reports``: parsers for the ARUDD, ADDACS and AUDDIS reports a bureau returns.

See ``docs/direct-debit.md`` for what is checked against a specification and what comes from the
domain brief.
"""
