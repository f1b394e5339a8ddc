"""Payments taken through a payment provider (``providers.py``)."""
