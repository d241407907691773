"""Knowledge bases: create, drag-and-drop upload with progress, live statuses (also a
failure's reason), test retrieval, a grounded answer's sources (file and page), delete."""

from __future__ import annotations

import json
import uuid

from playwright.sync_api import FilePayload, expect

from tests.console.conftest import Console
from tests.knowledge.conftest import build_pdf

POLICY = (
    "# Travel policy\n\n"
    "Employees book trains and flights through the Skyline portal. "
    "Economy class is the rule for flights shorter than six hours.\n\n"
    "## Meals\n\n"
    "The daily meal allowance on business trips is 45 euros, paid with the expense report.\n"
)
POLICY_PAGES = [
    "Travel policy\nEmployees book trains and flights through the Skyline portal.",
    "Meals\nThe daily meal allowance on business trips is 45 euros.",
]
BROKEN_PDF = "%PDF-1.4\ngarbage, not a document\n%%EOF\n"
INGEST_TIMEOUT = 90_000


def drop_file(console: Console, name: str, text: str, mime: str) -> None:
    """What a drag-and-drop from the desktop does: a `drop` event carrying the file."""
    console.page.get_by_test_id("dropzone").evaluate(
        """(zone, [name, text, mime]) => {
            const data = new DataTransfer();
            data.items.add(new File([text], name, { type: mime }));
            const init = { dataTransfer: data, bubbles: true, cancelable: true };
            zone.dispatchEvent(new DragEvent("dragover", init));
            zone.dispatchEvent(new DragEvent("drop", init));
        }""",
        [name, text, mime],
    )


def create_kb(console: Console, name: str) -> None:
    page = console.page
    console.open("kbs")
    page.get_by_test_id("kb-name").fill(name)
    page.get_by_test_id("kb-description").fill("made by the console test")
    page.get_by_test_id("kb-create").click()
    expect(page.get_by_test_id(f"kb-row-{name}")).to_be_visible()
    expect(page.get_by_test_id("kb-detail")).to_contain_text(name)


def test_upload_goes_online_and_test_retrieval_shows_scored_chunks(console: Console) -> None:
    page = console.page
    name = f"policy-{uuid.uuid4().hex[:6]}"
    console.sign_in()
    create_kb(console, name)

    # Progress is reported as the upload goes (XHR upload events), ending full.
    page.evaluate(
        """() => { window.progressSeen = [];
            new MutationObserver(() => document.querySelectorAll('[data-testid=upload-progress]')
              .forEach((bar) => window.progressSeen.push(bar.value)))
            .observe(document.body, { subtree: true, attributes: true, childList: true }); }"""
    )
    drop_file(console, "travel.md", POLICY, "text/markdown")
    row = page.get_by_test_id("file-row-travel.md")
    expect(row).to_be_visible()
    expect(row.get_by_test_id("file-status")).to_have_text("online", timeout=INGEST_TIMEOUT)
    assert 1 in page.evaluate("() => window.progressSeen")
    expect(page.get_by_test_id(f"kb-row-{name}")).to_contain_text("online")

    page.get_by_test_id("kb-search-query").fill("How much is the daily meal allowance?")
    page.get_by_test_id("kb-search-submit").click()
    hits = page.get_by_test_id("kb-search-hit")
    expect(hits.first).to_contain_text("45 euros")
    expect(hits.first).to_contain_text("travel.md")
    scores = [float(s) for s in page.get_by_test_id("kb-search-score").all_text_contents()]
    assert scores and all(0 < s <= 1 for s in scores)
    assert scores == sorted(scores, reverse=True)


def test_a_file_that_cannot_be_parsed_shows_fail_with_its_reason(console: Console) -> None:
    page = console.page
    console.sign_in()
    create_kb(console, f"broken-{uuid.uuid4().hex[:6]}")
    drop_file(console, "broken.pdf", BROKEN_PDF, "application/pdf")
    row = page.get_by_test_id("file-row-broken.pdf")
    expect(row.get_by_test_id("file-status")).to_have_text("fail", timeout=INGEST_TIMEOUT)
    expect(row.get_by_test_id("file-reason")).to_contain_text("PDF")


def test_a_rejected_upload_says_why(console: Console) -> None:
    page = console.page
    console.expected.append("400")
    console.sign_in()
    create_kb(console, f"rejected-{uuid.uuid4().hex[:6]}")
    page.get_by_test_id("file-input").set_input_files(
        files=[FilePayload(name="text.pdf", mimeType="application/pdf", buffer=b"plain text")]
    )
    expect(page.get_by_test_id("uploads")).to_contain_text("declared as pdf")


def test_grounded_answer_shows_its_sources_and_the_kb_can_be_deleted(console: Console) -> None:
    page = console.page
    name = f"grounded-{uuid.uuid4().hex[:6]}"
    console.sign_in()
    create_kb(console, name)
    pdf = build_pdf(POLICY_PAGES)
    page.get_by_test_id("file-input").set_input_files(
        files=[FilePayload(name="travel.pdf", mimeType="application/pdf", buffer=pdf)]
    )
    status = page.get_by_test_id("file-row-travel.pdf").get_by_test_id("file-status")
    expect(status).to_have_text("online", timeout=INGEST_TIMEOUT)

    console.open("playground")
    page.get_by_test_id(f"kb-choice-{name}").check()
    page.get_by_test_id("param-max_tokens").fill("24")
    page.get_by_test_id("prompt").fill("What is the daily meal allowance on business trips?")
    page.get_by_test_id("view-code").locator("summary").click()
    code = page.get_by_test_id("code").text_content() or ""
    body = json.loads(code.split("-d '", 1)[1].rsplit("'", 1)[0])
    assert len(body["knowledge_base"]["ids"]) == 1
    page.get_by_test_id("send").click()
    sources = page.get_by_test_id("sources")
    expect(sources).to_be_visible(timeout=60_000)
    first = sources.get_by_test_id("source").first
    expect(first.locator(".source-file")).to_have_text("travel.pdf")
    expect(first.locator(".source-head")).to_contain_text("page 2")
    expect(first.locator(".source-text")).to_contain_text("45 euros")
    console.screenshot("grounded-answer")

    console.open("kbs")
    delete = page.get_by_test_id(f"kb-delete-{name}")
    delete.click()
    expect(delete).to_have_text("Confirm")
    delete.click()
    expect(page.get_by_test_id(f"kb-row-{name}")).to_have_count(0)
