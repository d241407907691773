"""Stop sequences across token boundaries and UTF-8 split across tokens."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from modelport.engine.detokenize import TextAssembler
from modelport.engine.native import NativeModel
from modelport.settings import default_gguf_path


def feed_all(assembler: TextAssembler, pieces: list[bytes]) -> str:
    out = "".join(assembler.feed(p) for p in pieces)
    return out + assembler.flush()


def test_stop_spanning_tokens_is_cut_and_never_shown() -> None:
    assembler = TextAssembler(("END",))
    released = [assembler.feed(p) for p in [b"hello E", b"N", b"D more"]]
    assert released == ["hello ", "", ""]
    assert assembler.stopped and assembler.text == "hello "


def test_held_prefix_released_when_it_turns_out_not_to_be_a_stop() -> None:
    assembler = TextAssembler(("END",))
    assert assembler.feed(b"an E") == "an "
    assert assembler.feed(b"Xtra") == "EXtra"
    assert not assembler.stopped


def test_earliest_of_several_stops_wins() -> None:
    assembler = TextAssembler(("two", "one"))
    assert feed_all(assembler, [b"zero one two"]) == "zero "


def test_multibyte_utf8_split_across_tokens() -> None:
    data = "珠穆朗玛峰".encode()
    pieces = [data[i : i + 2] for i in range(0, len(data), 2)]
    assert feed_all(TextAssembler(), pieces) == "珠穆朗玛峰"


def test_flush_releases_held_text_at_the_end() -> None:
    assembler = TextAssembler(("STOP",))
    assert assembler.feed(b"ends with ST") == "ends with "
    assert assembler.flush() == "ST"


# --- the model's own byte-level tokens (issue 21: no U+FFFD in Chinese or emoji output) -------

TEXTS = ["春天🌸好", "请用中文写一段关于春天的短文。", "naïve café — 春 🌸 ok"]


@pytest.fixture(scope="module")
def model() -> Iterator[NativeModel]:
    native = NativeModel(default_gguf_path())
    yield native
    native.close()


def pieces_of(model: NativeModel, text: str) -> list[bytes]:
    ids = model.tokenize(text, add_special=False, parse_special=False)
    return [model.piece(token) for token in ids]


def whole_characters(data: bytes) -> str:
    """The text of `data` up to its last whole character (the tail of a cut one left off)."""
    for cut in range(len(data), max(len(data) - 4, -1), -1):
        try:
            return data[:cut].decode("utf-8")
        except UnicodeDecodeError:
            continue
    raise AssertionError(f"{data!r} is not UTF-8 with a cut tail")


@pytest.mark.parametrize("text", TEXTS, ids=["emoji", "sentence", "mixed"])
def test_real_tokens_split_characters_yet_no_delta_shows_a_fragment(
    model: NativeModel, text: str
) -> None:
    pieces = pieces_of(model, text)
    assert any(not _is_utf8(p) for p in pieces), "the test needs tokens that split a character"
    assembler = TextAssembler()
    deltas = [assembler.feed(p) for p in pieces] + [assembler.flush()]
    assert not any("\ufffd" in d for d in deltas), deltas
    assert "".join(deltas) == text == assembler.text


@pytest.mark.parametrize("text", TEXTS, ids=["emoji", "sentence", "mixed"])
def test_a_cut_inside_a_character_ends_at_the_last_whole_one(model: NativeModel, text: str) -> None:
    """A length stop after every token count: what is shown is the text up to the last whole
    character, never U+FFFD ("春天" cut after three tokens is "春", not "春\ufffd")."""
    pieces = pieces_of(model, text)
    cut_inside = 0
    for count in range(1, len(pieces) + 1):
        assembler = TextAssembler()
        shown = "".join(assembler.feed(p) for p in pieces[:count]) + assembler.flush()
        expected = whole_characters(b"".join(pieces[:count]))
        assert shown == expected, (count, shown)
        cut_inside += len(expected.encode()) < len(b"".join(pieces[:count]))
    assert cut_inside, "some cut fell inside a character"


def test_chinese_cut_after_three_tokens(model: NativeModel) -> None:
    pieces = pieces_of(model, "春天")  # b"\xe6\x98", b"\xa5", b"\xe5\xa4", b"\xa9"
    assembler = TextAssembler()
    assert [assembler.feed(p) for p in pieces[:3]] == ["", "春", ""]
    assert assembler.flush() == ""
    assert assembler.text == "春"


@pytest.mark.parametrize(("stop", "shown"), [("天", "春"), ("🌸", "春天"), ("天🌸", "春")])
def test_stop_sequence_found_across_held_bytes(model: NativeModel, stop: str, shown: str) -> None:
    """A stop sequence whose characters arrive a byte-token at a time is still found, and no
    byte of it (or of what follows) is shown."""
    assembler = TextAssembler((stop,))
    released = "".join(assembler.feed(p) for p in pieces_of(model, "春天🌸好"))
    assert assembler.stopped
    assert released == shown == assembler.text


def test_a_possible_stop_across_held_bytes_is_released_when_it_is_not_one(
    model: NativeModel,
) -> None:
    assembler = TextAssembler(("天🌸",))
    out = "".join(assembler.feed(p) for p in pieces_of(model, "春天好")) + assembler.flush()
    assert out == "春天好" and not assembler.stopped


def test_a_broken_fragment_mid_stream_is_dropped_not_replaced() -> None:
    """A lead byte followed by something that cannot continue it never becomes a character."""
    assembler = TextAssembler()
    assert assembler.feed(b"\xe6\x98") == ""
    assert assembler.feed(b"a\xf0\x9f") == "a"
    assert assembler.feed(b"\xe5\xa4\xa9") == "天"
    assert assembler.flush() == ""


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
