"""iFlytek Spark (chat over WebSocket) channel adapter."""

from .adapter import SparkProvider

__all__ = ["SparkProvider"]
