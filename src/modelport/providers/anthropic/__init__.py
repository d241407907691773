"""Anthropic's Messages API: `adapter` (HTTP and the stream reader), `convert` (both
directions) and `options` (what a channel may set)."""

from .adapter import AnthropicProvider

__all__ = ["AnthropicProvider"]
