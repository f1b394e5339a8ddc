"""Money as people read it."""


def format_pence(amount_pence: int, *, pence_always: bool = False) -> str:
    """``1250`` → ``£12.50``; whole pounds without pence: ``4000`` → ``£40`` (``£40.00`` with
    ``pence_always``, for columns of figures); ``-1250`` → ``-£12.50``."""
    sign = "-" if amount_pence < 0 else ""
    pounds, pence = divmod(abs(amount_pence), 100)
    if pence == 0 and not pence_always:
        return f"{sign}£{pounds:,}"
    return f"{sign}£{pounds:,}.{pence:02d}"
