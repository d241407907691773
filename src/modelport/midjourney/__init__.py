"""Midjourney through the midjourney-proxy protocol (docs/midjourney.md)."""
