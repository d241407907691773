"""DeepL (`/v2/translate`) served as chat models that translate the last user message."""

from .adapter import DeepLProvider, Translated
from .options import DeepLOptions

__all__ = ["DeepLOptions", "DeepLProvider", "Translated"]
