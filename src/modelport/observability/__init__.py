"""Metrics and structured logs: what the platform reports about itself."""
