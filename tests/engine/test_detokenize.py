"""Stop sequences across token boundaries and UTF-8 split across tokens."""

from __future__ import annotations

from modelport.engine.detokenize import TextAssembler


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
