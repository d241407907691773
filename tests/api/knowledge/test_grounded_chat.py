"""Chat with `knowledge_base.ids` (or the retrieval tool): grounded answers that cite files."""

from __future__ import annotations

from typing import Any

import openai

from tests.api.knowledge.helpers import (
    CHINESE_DOC,
    ENGLISH_DOC,
    OTHER_ENGLISH_DOC,
    KbApi,
    new_owner_key,
    sse_chunks,
)
from tests.support.server import RunningServer

MODEL = "smollm2-135m-instruct"


def cites_of(body: dict[str, Any]) -> list[dict[str, Any]]:
    cites: list[dict[str, Any]] = body["knowledge_base"]["cites"]
    return cites


def test_sdk_answer_cites_the_right_english_file(any_server: RunningServer) -> None:
    api = KbApi(any_server)
    kb_id, (travel, _plants) = api.kb_with(
        ("travel.md", ENGLISH_DOC), ("plants.txt", OTHER_ENGLISH_DOC)
    )
    client = openai.OpenAI(base_url=any_server.api_url, api_key=any_server.admin_key, max_retries=0)
    reply = client.chat.completions.create(
        model=MODEL,
        messages=[
            {"role": "user", "content": "What is the daily meal allowance on business trips?"}
        ],
        max_tokens=8,
        extra_body={"knowledge_base": {"ids": [kb_id]}},
    )
    assert reply.choices[0].message.content
    cites = (reply.model_extra or {})["knowledge_base"]["cites"]
    assert cites[0]["file_id"] == travel and cites[0]["title"] == "travel.md"
    assert "45 euros" in cites[0]["content"]
    assert cites[0]["kb_id"] == kb_id and 0 < cites[0]["score"] <= 1
    assert len(cites) <= 5


def test_chinese_questions_cite_the_right_passage(server: RunningServer) -> None:
    api = KbApi(server)
    split = {"chunk_max_len": 40, "chunk_overlap_len": 4}
    kb_id, (handbook, _) = api.kb_with(
        ("员工手册.txt", CHINESE_DOC), ("plants.txt", OTHER_ENGLISH_DOC), split=split
    )
    for question, expected in [
        ("员工的年假有几天？", "十五天带薪年假"),
        ("报销", "差旅报销"),  # a bare two-character keyword
        ("食堂几点开门", "食堂每天早上八点开放"),
    ]:
        response = api.chat([kb_id], question)
        assert response.status_code == 200, response.text
        top = cites_of(response.json())[0]
        assert top["file_id"] == handbook and top["title"] == "员工手册.txt"
        assert expected in top["content"], (question, top)


def test_the_retrieval_tool_spelling_works_too(server: RunningServer) -> None:
    api = KbApi(server)
    kb_id, (travel,) = api.kb_with(("travel.md", ENGLISH_DOC))
    tools = [{"type": "retrieval", "retrieval": {"kb_ids": [kb_id]}}]
    response = api.chat([], "Which portal books trains?", tools=tools)
    assert response.status_code == 200, response.text
    assert cites_of(response.json())[0]["file_id"] == travel


def test_a_stream_carries_the_cites_on_its_final_chunk(server: RunningServer) -> None:
    api = KbApi(server)
    kb_id, (travel,) = api.kb_with(("travel.md", ENGLISH_DOC))
    payload = {
        "model": MODEL,
        "stream": True,
        "max_tokens": 6,
        "messages": [{"role": "user", "content": "Which class is used for short flights?"}],
        "knowledge_base": {"ids": [kb_id]},
    }
    with api.http.stream("POST", "/chat/completions", json=payload) as response:
        assert response.status_code == 200
        chunks = sse_chunks(response.iter_lines())
    with_cites = [c for c in chunks if "knowledge_base" in c]
    assert len(with_cites) == 1 and with_cites[0] is chunks[-1]
    assert with_cites[0]["choices"][0]["finish_reason"] in ("stop", "length")
    assert cites_of(with_cites[0])[0]["file_id"] == travel
    assert "Economy class" in cites_of(with_cites[0])[0]["content"]


def test_unknown_or_foreign_kb_ids_are_404(server: RunningServer) -> None:
    mine = KbApi(server)
    kb_id = mine.create_kb()
    theirs = KbApi(server, new_owner_key(server, owner="chat-intruder"))
    for api, ids in [(mine, [kb_id, "kb-doesnotexist"]), (theirs, [kb_id])]:
        response = api.chat(ids, "anything")
        assert response.status_code == 404, response.text
        error = response.json()["error"]
        assert error["param"] == "knowledge_base.ids"
        assert error["code"] == "knowledge_base_not_found"
    stream = theirs.chat([kb_id], "anything", stream=True)
    assert stream.status_code == 404


def test_the_knowledge_base_wins_over_web_search(server: RunningServer) -> None:
    api = KbApi(server)
    kb_id, (travel,) = api.kb_with(("travel.md", ENGLISH_DOC))
    response = api.chat([kb_id], "What is the meal allowance?", with_search_enhance=True)
    assert response.status_code == 200, response.text  # no search provider is configured
    body = response.json()
    assert cites_of(body)[0]["file_id"] == travel and "search_sources" not in body


CHINESE_PARKING = (
    "停车管理\n\n访客车辆须在前台登记，停放在地下三层访客区。\n\n"
    "电动车充电桩位于地下一层，每度电收费一元。\n"
)
ENGLISH_LEAVE = (
    "# Parental leave\n\n"
    "Parents receive sixteen weeks of paid parental leave, which can be split into two "
    "blocks taken within the child's first year.\n"
)


def test_cross_lingual_questions_cite_the_other_languages_file(server: RunningServer) -> None:
    """Issue 21: a mixed knowledge base answers English questions from a Chinese file and
    Chinese questions from an English one (e5 ranks any same-language passage higher)."""
    api = KbApi(server)
    kb_id, (_handbook, parking, _travel, leave) = api.kb_with(
        ("员工手册.txt", CHINESE_DOC),
        ("停车管理.txt", CHINESE_PARKING),
        ("travel.md", ENGLISH_DOC),
        ("leave.md", ENGLISH_LEAVE),
    )
    for question, file_id, expected in [
        ("Where do visitors park their cars?", parking, "地下三层"),
        ("育儿假有多长？", leave, "sixteen weeks"),
    ]:
        response = api.chat([kb_id], question)
        assert response.status_code == 200, response.text
        top = cites_of(response.json())[0]
        assert (top["file_id"], expected in top["content"]) == (file_id, True), question


def test_an_unrelated_question_cites_nothing(server: RunningServer) -> None:
    api = KbApi(server)
    kb_id, _files = api.kb_with(("员工手册.txt", CHINESE_DOC), ("travel.md", ENGLISH_DOC))
    response = api.chat([kb_id], "quantum chromodynamics lattice")
    assert response.status_code == 200, response.text
    assert cites_of(response.json()) == []
    found = api.http.post(f"/kbs/{kb_id}/search", json={"query": "年假", "score_threshold": 0})
    assert found.status_code == 200 and found.json()["data"], found.text
    strict = {"query": "Which portal books trains?", "score_threshold": 1.0}
    assert api.http.post(f"/kbs/{kb_id}/search", json=strict).json()["data"] == []
