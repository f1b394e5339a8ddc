"""Matching bank statement credits to rent accounts: payment references with a check character,
the matching engine, and synthetic statements with ground truth to measure it on."""
