"""Every word of the console in both languages: the two catalogues have the same keys, every
key the sources use (`t("…")`, `data-i18n*="…"` in index.html) exists, and no key is unused.
In Chromium, zh-CN pages show no English sentence of the catalogue."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.console.conftest import Console

CONSOLE = Path(__file__).resolve().parents[2] / "src" / "modelport" / "console"
LOCALES = CONSOLE / "js" / "locales"
ENTRY = re.compile(r'^\s*"([^"]+)":\s*(.+?),?\s*$')
USE = re.compile(r"""\bt\(\s*(?:"([^"]+)"|'([^']+)'|`([^`$]+)`)""")
DYNAMIC = re.compile(r"\bt\(\s*`([^`]*?)\$\{")
ATTR = re.compile(r'data-i18n(?:-[a-z-]+)?="([^"]+)"')


def catalogue(name: str) -> dict[str, str]:
    entries: dict[str, str] = {}
    for line in (LOCALES / name).read_text(encoding="utf-8").splitlines():
        match = ENTRY.match(line)
        if match:
            assert match.group(1) not in entries, f"{name}: {match.group(1)} twice"
            entries[match.group(1)] = match.group(2)
    return entries


def sources() -> list[str]:
    paths = [*CONSOLE.glob("js/**/*.js"), CONSOLE / "index.html"]
    return [p.read_text(encoding="utf-8") for p in paths if "locales" not in p.parts]


def used_keys() -> tuple[set[str], set[str]]:
    keys: set[str] = set()
    prefixes: set[str] = set()
    for text in sources():
        for match in USE.finditer(text):
            keys.add(next(g for g in match.groups() if g))
        prefixes.update(DYNAMIC.findall(text))
        keys.update(ATTR.findall(text))
    return keys, prefixes


def english_phrases() -> set[str]:
    """The en catalogue's plain texts that zh-CN words differently (brand names excluded)."""
    zh = set(catalogue("zh-CN.js").values())
    out = set()
    for value in catalogue("en.js").values():
        if value.startswith('"') and value not in zh and re.search(r"[A-Za-z]{3}", value):
            text = value.strip('"')
            if "{" not in text:
                out.add(text)
    return out


def test_both_catalogues_have_the_same_keys() -> None:
    en, zh = catalogue("en.js"), catalogue("zh-CN.js")
    assert len(en) > 200
    assert sorted(set(en) - set(zh)) == [], "missing in zh-CN.js"
    assert sorted(set(zh) - set(en)) == [], "missing in en.js"


def test_every_used_key_exists_and_every_key_is_used() -> None:
    en = catalogue("en.js")
    keys, prefixes = used_keys()
    assert sorted(keys - set(en)) == [], "used but not in the catalogues"
    for prefix in prefixes:
        assert any(k.startswith(prefix) for k in en), f"no key starts with {prefix!r}"
    # A key passed around before t() sees it (a table of labels) is a quoted literal.
    everything = "\n".join(sources())
    unused = [
        k
        for k in en
        if k not in keys
        and f'"{k}"' not in everything
        and not any(k.startswith(p) for p in prefixes)
    ]
    assert unused == [], "in the catalogues but never used"


def test_the_chinese_catalogue_is_chinese() -> None:
    zh = catalogue("zh-CN.js")
    han = re.compile(r"[\u4e00-\u9fff]")
    # A few values are the same in both (codes, brand names, "sk-…"); every sentence is Chinese.
    english = [
        k for k, v in zh.items() if re.search(r"[a-z]{4,} [a-z]{3,}", v) and not han.search(v)
    ]
    assert english == []


VISIBLE_TEXT = """() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    const text = node.textContent.trim();
    if (!text || el.closest("select, option, script, style, pre, .content, .source-text")) continue;
    if (!el.checkVisibility()) continue;
    out.push(text);
  }
  for (const el of document.querySelectorAll("input[placeholder], textarea[placeholder]")) {
    if (el.checkVisibility()) out.push(el.placeholder);
  }
  return out;
}"""

PAGES = ["playground", "images", "translate", "midjourney", "kbs", "keys", "usage"]


def switch_to_chinese(console: Console) -> None:
    console.page.get_by_test_id("lang").select_option("zh-CN")
    expect(console.page.locator("html")).to_have_attribute("lang", "zh-CN")


@pytest.mark.parametrize("name", PAGES)
def test_a_page_in_chinese_shows_no_english_sentence(console: Console, name: str) -> None:
    if name == "midjourney":
        console.expected.append("404")  # no Midjourney channel here: the page shows the error
    console.sign_in()
    switch_to_chinese(console)
    console.open(name)
    page = console.page
    expect(page.locator("#main h1")).not_to_have_text("")
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(300)
    english = english_phrases()
    shown = page.evaluate(VISIBLE_TEXT)
    assert [text for text in shown if text in english] == []
    assert re.search(r"[\u4e00-\u9fff]", page.locator("#main h1").inner_text())


def test_the_language_is_kept_and_the_browser_language_is_the_default(console: Console) -> None:
    page = console.page
    page.goto(console.url)
    expect(page.get_by_test_id("signin-submit")).to_have_text("Sign in")  # en-US browser
    switch_to_chinese(console)
    expect(page.get_by_test_id("signin-submit")).to_have_text("登录")  # redrawn at once
    page.reload()
    expect(page.get_by_test_id("signin-submit")).to_have_text("登录")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")


def test_a_chinese_browser_gets_chinese(console: Console) -> None:
    context = console.page.context.browser.new_context(locale="zh-CN")  # type: ignore[union-attr]
    try:
        page = context.new_page()
        page.goto(console.url)
        expect(page.get_by_test_id("signin-submit")).to_have_text("登录")
        expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    finally:
        context.close()


def test_numbers_and_dates_follow_the_language(console: Console) -> None:
    console.sign_in()
    switch_to_chinese(console)
    console.open("keys")
    page = console.page
    row = page.get_by_test_id("key-rows").locator("tr").first
    expect(row).to_contain_text("年")  # the last-used date, as zh-CN writes it
