"""Grounded chat end to end on the Milvus index backend (a milvus-lite database here)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import openai
import pytest

from tests.api.knowledge.helpers import CHINESE_DOC, ENGLISH_DOC, OTHER_ENGLISH_DOC, KbApi
from tests.support.server import RunningServer, run_server

MODEL = "smollm2-135m-instruct"


@pytest.fixture(scope="module")
def milvus_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    data_dir = tmp_path_factory.mktemp("milvus-server")
    env = {"MODELPORT_MILVUS_URI": str(data_dir / "milvus.db")}
    with run_server(data_dir, env=env) as running:
        yield running


def ask(server: RunningServer, kb_id: str, question: str) -> list[dict[str, object]]:
    client = openai.OpenAI(base_url=server.api_url, api_key=server.admin_key, max_retries=0)
    reply = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": question}],
        max_tokens=4,
        extra_body={"knowledge_base": {"ids": [kb_id]}},
    )
    assert reply.choices[0].message.content is not None
    cites: list[dict[str, object]] = (reply.model_extra or {})["knowledge_base"]["cites"]
    return cites


def test_answers_cite_the_right_english_and_chinese_files(milvus_server: RunningServer) -> None:
    api = KbApi(milvus_server)
    english_kb, (travel, _) = api.kb_with(
        ("travel.md", ENGLISH_DOC), ("plants.txt", OTHER_ENGLISH_DOC)
    )
    [top, *_] = ask(
        milvus_server, english_kb, "What is the daily meal allowance on business trips?"
    )
    assert top["file_id"] == travel and top["title"] == "travel.md"
    assert "45 euros" in str(top["content"]) and top["kb_id"] == english_kb
    split = {"chunk_max_len": 40, "chunk_overlap_len": 4}
    chinese_kb, (handbook, _) = api.kb_with(
        ("员工手册.txt", CHINESE_DOC), ("plants.txt", OTHER_ENGLISH_DOC), split=split
    )
    for question, expected in [("员工的年假有几天？", "十五天带薪年假"), ("报销", "差旅报销")]:
        [top, *_] = ask(milvus_server, chinese_kb, question)
        assert top["file_id"] == handbook and top["title"] == "员工手册.txt"
        assert expected in str(top["content"]), (question, top)
    # The chunks went to Milvus, not to the embedded SQLite index.
    assert (milvus_server.data_dir / "milvus.db").exists()
    assert not (milvus_server.data_dir / "knowledge.sqlite3").exists()


def test_a_restarted_server_answers_from_the_same_milvus_db(tmp_path: Path) -> None:
    env = {"MODELPORT_MILVUS_URI": str(tmp_path / "shared" / "milvus.db")}
    (tmp_path / "shared").mkdir()
    with run_server(tmp_path / "data", env=env) as first:
        kb_id, (travel,) = KbApi(first).kb_with(("travel.md", ENGLISH_DOC))
    with run_server(tmp_path / "data", env=env) as second:  # the collection is loaded again
        [top, *_] = ask(second, kb_id, "Which portal books trains and flights?")
    assert top["file_id"] == travel and "Skyline" in str(top["content"])
