"""Baidu ERNIE (Qianfan v1 "wenxinworkshop") channel adapter."""

from .adapter import ErnieProvider
from .options import ErnieOptions

__all__ = ["ErnieOptions", "ErnieProvider"]
