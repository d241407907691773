"""Parsing in a child process, killed at the time limit or when its file is deleted.

A thread cannot be stopped from outside, and the slow parts of a hostile file are single
library calls (lxml reading a huge part, pypdf extracting a page with a giant content
stream) that no cooperative deadline check can interrupt. A child process can be killed at
any instant, and its memory goes with it. Children fork from a forkserver that has the
parsers imported already, so a parse costs a fork (milliseconds), not an interpreter start;
the forkserver is itself started fresh, so it carries none of the server's threads.
The cooperative character cap (`CharBudget`) still runs inside the child: it fails a file
as soon as it is too big, without waiting for the clock.
"""

from __future__ import annotations

import multiprocessing
import sys
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from .background import lower_this_thread
from .chunk import SplitConfig, chunk_document
from .document import Chunk, FileKind
from .errors import IngestionCancelled, ParseError, ParseLimitExceeded, UnsupportedFileType
from .limits import ParseLimits, too_many_chunks, too_slow
from .parse import parse_document

_POLL_SECONDS = 0.05  # how quickly a cancel or the deadline is noticed
_START = "forkserver" if sys.platform.startswith("linux") else "spawn"
_CONTEXT: Any = multiprocessing.get_context(_START)
if _START == "forkserver":
    _CONTEXT.set_forkserver_preload([__name__, "docx", "pypdf"])
_ERRORS: dict[str, type[Exception]] = {
    "unsupported": UnsupportedFileType,
    "limit": ParseLimitExceeded,
    "parse": ParseError,
}


@dataclass(frozen=True, slots=True)
class ParsedChunks:
    kind: FileKind
    chunks: list[Chunk]
    characters: int


@dataclass(frozen=True, slots=True)
class _Request:
    data: bytes
    filename: str
    content_type: str | None
    split: SplitConfig | None  # None: the text only (a preview), not chunks
    limits: ParseLimits


class ParseSandbox:
    """Blocking calls, for a worker thread: each parses one file in a fresh child."""

    def __init__(self, limits: ParseLimits) -> None:
        self.limits = limits

    def warm_up(self) -> None:
        """Start the forkserver (it imports the parsers, about a second) before the first
        file's clock starts; blocking."""
        self._run(_Request(b"warm", "warm.txt", None, None, ParseLimits(seconds=120)), None)

    def text(
        self,
        data: bytes,
        filename: str,
        content_type: str | None,
        *,
        cancel: threading.Event | None = None,
    ) -> str:
        """The extracted text (for `parsed-content`)."""
        result = self._run(_Request(data, filename, content_type, None, self.limits), cancel)
        text: str = result[1]
        return text

    def chunks(
        self,
        data: bytes,
        filename: str,
        content_type: str | None,
        split: SplitConfig,
        *,
        cancel: threading.Event | None = None,
    ) -> ParsedChunks:
        """The file's chunks; raises `ParseLimitExceeded` past any limit, `IngestionCancelled`
        once `cancel` is set (the child is killed at once)."""
        result = self._run(_Request(data, filename, content_type, split, self.limits), cancel)
        kind, rows, characters = result
        return ParsedChunks(FileKind(kind), [Chunk(*row) for row in rows], characters)

    def _run(self, request: _Request, cancel: threading.Event | None) -> Any:
        receiver, sender = _CONTEXT.Pipe(duplex=False)
        process = _CONTEXT.Process(target=_child, args=(sender, request), daemon=True)
        try:
            process.start()
            sender.close()  # ours; the child holds its own copy
            deadline = time.monotonic() + request.limits.seconds
            message = _wait(receiver, process, deadline, request.limits.seconds, cancel)
        finally:
            if process.is_alive():
                process.kill()
            process.join()
            receiver.close()
        status, payload = message
        if status == "ok":
            return payload
        raise _ERRORS[status](payload)


def _wait(
    receiver: Connection,
    process: Any,
    deadline: float,
    seconds: float,
    cancel: threading.Event | None,
) -> tuple[str, Any]:
    while not receiver.poll(_POLL_SECONDS):
        if cancel is not None and cancel.is_set():
            raise IngestionCancelled("the file was deleted or detached")
        if not process.is_alive() and not receiver.poll():
            # Killed by the kernel (out of memory) or crashed inside a C extension.
            raise ParseError(f"the parser died (exit code {process.exitcode})")
        if time.monotonic() > deadline:
            raise too_slow(seconds)
    try:
        message: tuple[str, Any] = receiver.recv()
    except (EOFError, OSError) as exc:
        raise ParseError(f"the parser died: {exc}") from exc
    return message


def _child(sender: Connection, request: _Request) -> None:
    """In the child: parse (and chunk), send back the result or the error, as plain values."""
    lower_this_thread()  # a preview's parse too, not only ingestion's, yields to requests
    limits = request.limits
    try:
        document = parse_document(
            request.data, request.filename, request.content_type, max_chars=limits.max_chars
        )
        if request.split is None:
            message: tuple[str, Any] = ("ok", (document.kind.value, document.text))
        else:
            chunks = chunk_document(document, request.split)
            if len(chunks) > limits.max_chunks:
                raise too_many_chunks(limits.max_chunks)
            rows = [(c.seq, c.text, c.page, c.heading) for c in chunks]
            message = ("ok", (document.kind.value, rows, len(document.text)))
    except UnsupportedFileType as exc:
        message = ("unsupported", str(exc))
    except ParseLimitExceeded as exc:
        message = ("limit", str(exc))
    except ParseError as exc:
        message = ("parse", str(exc))
    except (RecursionError, MemoryError) as exc:
        message = ("parse", f"the file is too complex to parse ({type(exc).__name__})")
    except Exception as exc:  # a parser library choking on hostile input: the file's fault
        message = ("parse", f"the file could not be read ({type(exc).__name__}: {exc})")
    sender.send(message)
    sender.close()
