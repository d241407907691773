"""Per-request grounding options beyond Baichuan's: `top_k`, `score_threshold`,
`citation_markers`, and the section heading a cite comes from."""

from __future__ import annotations

import httpx

from modelport.chat.kb_grounding import MARKERS, grounding_text
from modelport.knowledge.retrieve import Passage
from tests.api.knowledge.helpers import CHINESE_DOC, ENGLISH_DOC, KbApi
from tests.api.knowledge.test_grounded_chat import cites_of
from tests.support.server import RunningServer

SPLIT = {"chunk_max_len": 60, "chunk_overlap_len": 0}


def test_top_k_threshold_and_headings(server: RunningServer) -> None:
    api = KbApi(server)
    kb_id, (travel, _handbook) = api.kb_with(
        ("travel.md", ENGLISH_DOC), ("员工手册.txt", CHINESE_DOC), split=SPLIT
    )
    question = "What is the daily meal allowance on business trips?"
    default = cites_of(api.chat([kb_id], question).json())
    assert len(default) > 1
    one = cites_of(api.chat([kb_id], question, knowledge_base={"ids": [kb_id], "top_k": 1}).json())
    assert len(one) == 1 and one[0]["file_id"] == travel
    assert "45 euros" in one[0]["content"]
    assert one[0]["heading"] == "Travel policy > Meals"  # the markdown section it sits in
    # An unrelated question cites nothing by default; with no floor, the best passages come.
    unrelated = "quantum chromodynamics lattice"
    assert cites_of(api.chat([kb_id], unrelated).json()) == []
    no_floor = {"ids": [kb_id], "score_threshold": 0}
    anything = cites_of(api.chat([kb_id], unrelated, knowledge_base=no_floor).json())
    assert anything and all(c["score"] < 0.79 for c in anything)


def test_options_are_checked(server: RunningServer) -> None:
    headers = {"Authorization": f"Bearer {server.admin_key}"}
    body = {
        "model": "smollm2-135m-instruct",
        "messages": [{"role": "user", "content": "hi"}],
        "knowledge_base": {"ids": ["kb-x"], "top_k": 0},
    }
    refused = httpx.post(f"{server.api_url}/chat/completions", json=body, headers=headers)
    assert refused.status_code == 400 and "top_k" in refused.text


def test_markers_are_asked_for_only_when_opted_in() -> None:
    passage = Passage("kb", "file-1", "a.md", "Text.", None, "A > B", 0.9)
    assert MARKERS not in grounding_text([passage], 0, 2000)
    marked = grounding_text([passage], 0, 2000, markers=True)
    assert MARKERS in marked and "[1] a.md, A > B" in marked
