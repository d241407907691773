"""The console's SSE reader (js/sse.js) keeps a character whose UTF-8 bytes arrive in two
network reads whole (issue 21): run in Node on a body cut one byte into every multi-byte
character, it yields the events' text without U+FFFD."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

import modelport
from tests.fakes.split_utf8 import split_inside_characters

SSE_JS = Path(modelport.__file__).parent / "console" / "js" / "sse.js"
TEXTS = ["春天🌸好", " naïve café — 春眠不觉晓", " 🌏!"]

# Each argv piece (latin-1 text standing for bytes) becomes one chunk of the response body.
SCRIPT = """
const { sseEvents } = await import(process.argv[1]);
const pieces = JSON.parse(process.argv[2]).map((p) => Buffer.from(p, "latin1"));
const body = new ReadableStream({
  pull(controller) {
    const next = pieces.shift();
    if (next === undefined) controller.close();
    else controller.enqueue(new Uint8Array(next));
  },
});
const out = [];
for await (const event of sseEvents({ body })) out.push(event.choices[0].delta.content);
process.stdout.write(JSON.stringify(out));
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="needs Node")
def test_console_sse_reader_holds_characters_cut_between_reads() -> None:
    events = "".join(
        f"data: {json.dumps({'choices': [{'delta': {'content': t}}]}, ensure_ascii=False)}\n\n"
        for t in TEXTS
    )
    pieces = split_inside_characters((events + "data: [DONE]\n\n").encode())
    assert len(pieces) > 10
    run = subprocess.run(
        [
            "node",
            "--input-type=module",
            "-e",
            SCRIPT,
            SSE_JS.as_uri(),
            json.dumps([p.decode("latin-1") for p in pieces]),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert json.loads(run.stdout) == TEXTS
