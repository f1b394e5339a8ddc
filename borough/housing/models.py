"""Tenancies, rent accounts and their ledger, Direct Debit mandates, bank statements."""
