"""Money as people read it."""


def format_pence(amount_pence: int) -> str:
    """``1250`` → ``£12.50``; whole pounds without pence: ``4000`` → ``£40``."""
    pounds, pence = divmod(amount_pence, 100)
    return f"£{pounds:,}" if pence == 0 else f"£{pounds:,}.{pence:02d}"
