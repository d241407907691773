"""API keys, quotas, rate limits and the usage ledger."""
