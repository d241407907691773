"""Vendor adapters behind one `Provider` protocol; one file per vendor."""
