"""Baidu ERNIE (Qianfan v1 "wenxinworkshop") channel adapter."""

from .adapter import ErnieProvider

__all__ = ["ErnieProvider"]
