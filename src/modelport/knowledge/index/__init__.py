"""Chunk indexes: one backend per module behind the `Index` protocol in `base.py`."""
