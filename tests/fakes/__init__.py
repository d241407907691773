"""Fake vendor servers that follow each vendor's published protocol, for channel tests."""
