"""Google's Gemini API: `adapter` (HTTP and streaming) and `convert` (both directions)."""

from .adapter import GeminiProvider

__all__ = ["GeminiProvider"]
