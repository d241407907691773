"""Upstream channels managed at runtime: their store, tests, balances and propagation."""
