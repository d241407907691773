"""The embedded llama.cpp engine as a provider."""

from .provider import LocalProvider, LocalStream

__all__ = ["LocalProvider", "LocalStream"]
