"""Typed errors of the knowledge library; the API layer maps them to HTTP statuses."""

from __future__ import annotations


class KnowledgeError(Exception):
    """Base of every error raised by `modelport.knowledge`."""


class UnsupportedFileType(KnowledgeError):
    """The file's type is not one we parse, or its content contradicts its name/type."""


class ParseError(KnowledgeError):
    """The file claims a supported type but cannot be read (corrupt, encrypted, empty)."""


class InvalidSplitConfig(KnowledgeError, ValueError):
    """A split configuration breaks Baichuan's limits."""


class IndexStoreError(KnowledgeError):
    """The index store refused an operation (e.g. a vector of the wrong dimension)."""


class ParseLimitExceeded(ParseError):
    """Parsing a file went past a limit (time, characters, chunks); the message names it."""


class IngestionCancelled(KnowledgeError):
    """The file or knowledge base was deleted (or the file detached) while it was ingested."""
