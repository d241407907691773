"""Anthropic's Messages API: `adapter` (HTTP and streaming) and `convert` (both directions)."""

from .adapter import AnthropicProvider

__all__ = ["AnthropicProvider"]
