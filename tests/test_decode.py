"""decode: bytes -> the text loaders see, with line numbers kept and problems noticed."""

from __future__ import annotations

import gzip
import io
import json
import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backrooms_scan.decode import (
    _MOJIBAKE_HINT,
    HEAD_SIZE,
    Document,
    classify_head,
    may_hold_mojibake,
    sniff_encoding,
)
from backrooms_scan.walk import iter_inputs

FIXTURES = Path(__file__).parent / "fixtures" / "decode"


def decoded(data: bytes, fix_text: bool = True) -> Document:
    doc = Document.from_bytes("f.txt", data, fix_text=fix_text)
    doc.read_text()
    return doc


def notices(doc: Document) -> list[tuple[str, int | None]]:
    return [(notice.message, notice.line) for notice in doc.notices.items]


# --- Document.from_input --------------------------------------------------------


def test_from_input_reads_the_head_and_keeps_the_whole_stream_from_the_start():
    data = bytes(range(256)) * 1000  # longer than the head
    (item,) = iter_inputs(["-"], stdin=io.BytesIO(data))
    doc = Document.from_input(item)
    assert (doc.path, doc.name, doc.fix_text) == ("-", "-", True)
    assert doc.head == data[:HEAD_SIZE]
    assert doc.stream.read() == data


def test_from_input_sees_decompressed_content_under_the_plain_name(tmp_path):
    path = tmp_path / "talk.txt.gz"
    path.write_bytes(gzip.compress("pÄ\x81ragate\r\nnext".encode()))
    (item,) = iter_inputs([str(path)])
    doc = Document.from_input(item, fix_text=True)
    assert (doc.path, doc.name) == (str(path), "talk.txt")
    assert doc.read_text() == "pāragate\nnext"
    assert doc.repaired


def test_file_without_newlines_is_read_with_a_bounded_head(tmp_path):
    # Stands in for a 100 MB single-line file: the head stops at HEAD_SIZE whatever the lines.
    size = 4 * 1024 * 1024
    path = tmp_path / "one_line.txt.gz"
    path.write_bytes(gzip.compress(b"gate" * (size // 4)))
    (item,) = iter_inputs([str(path)])
    doc = Document.from_input(item)
    assert len(doc.head) == HEAD_SIZE
    assert len(doc.head_text()) == HEAD_SIZE
    text = doc.read_text()
    assert (len(text), text.count("\n")) == (size, 0)


# --- classify_head ----------------------------------------------------------------


@pytest.mark.parametrize(
    "head",
    [b"", b" \n\t\r\n ", b"\xef\xbb\xbf\n", "  \n".encode("utf-16")],
    ids=["zero-bytes", "whitespace", "utf8-bom-only", "utf16-whitespace"],
)
def test_nothing_but_whitespace_is_an_empty_file(head):
    assert classify_head(head) == "empty file"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([" ", "\n", "\x1c", "\x85", "\u00a0", "\u3000", "a", "~",
                                 "\x7f", "é", "\ufeff"]), max_size=8).map("".join))
def test_a_file_is_empty_exactly_when_its_text_is_whitespace(text):
    expected = "empty file" if not text.removeprefix("\ufeff").strip() else None
    assert classify_head(text.encode("utf-8")) == expected


def test_whitespace_filling_the_whole_head_is_not_called_empty():
    assert classify_head(b" " * HEAD_SIZE) is None  # the rest of the file may hold text


@pytest.mark.parametrize(
    "head",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        b"\xff\xd8\xff\xe0\x00\x10JFIF",
        b"GIF89a\x01\x00",
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n",
        b"\x7fELF\x02\x01\x01",
        b"SQLite format 3\x00\x10\x00",
    ],
    ids=["png", "jpeg", "gif", "pdf", "elf", "sqlite"],
)
def test_known_binary_magic_is_a_binary_file(head):
    assert classify_head(head) == "binary file"


def test_random_bytes_with_nul_are_a_binary_file():
    noise = random.Random(7).randbytes(4096)
    assert b"\x00" in noise
    assert classify_head(noise) == "binary file"


def test_text_with_a_few_nul_bytes_is_still_text():
    assert classify_head(b"<claude-1>\nhello\x00 there\n" * 20) is None


def test_nothing_but_nul_bytes_is_a_binary_file():
    assert classify_head(b"\x00" * 100) == "binary file"


@pytest.mark.parametrize(
    "encoding",
    ["utf-16", "utf-16-le", "utf-16-be", "utf-32"],
)
def test_wide_text_full_of_nul_bytes_is_text(encoding):
    assert classify_head("### Claude 1 ###\nhello\n".encode(encoding)) is None


def test_plain_text_is_neither_empty_nor_binary():
    assert classify_head("actors: a, b\nsāhā\n".encode()) is None


# --- encodings --------------------------------------------------------------------


def test_utf8_bom_is_stripped():
    doc = decoded(b"\xef\xbb\xbfactors: a\n")
    assert (doc.read_text(), doc.encoding, notices(doc)) == ("actors: a\n", "utf-8", [])


@pytest.mark.parametrize(
    ("codec", "encoding"),
    [("utf-16", "utf-16-le"), ("utf-16-be-bom", "utf-16-be"), ("utf-32", "utf-32-le")],
)
def test_utf16_and_utf32_with_a_bom_are_decoded(codec, encoding):
    text = "### Claude 1 ###\ngate pāragate\n"
    data = (
        b"\xfe\xff" + text.encode("utf-16-be") if codec == "utf-16-be-bom" else text.encode(codec)
    )
    doc = decoded(data)
    assert (doc.read_text(), doc.encoding, notices(doc)) == (text, encoding, [])


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_bom_is_recognised_by_its_nul_pattern(encoding):
    text = "<claude-explorer>\ncd ..\nls -la\n"
    doc = decoded(text.encode(encoding))
    assert (doc.read_text(), doc.encoding) == (text, encoding)


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_bom_is_recognised_when_most_of_its_text_is_not_ascii(encoding):
    # Korean turns in ASCII JSON punctuation: about 40% of the characters are ASCII.
    text = '[{"from": "gpt", "value": "중생은 가없으나 맹세코 건지리다 번뇌는 다함없으나"}]\n' * 40
    doc = decoded(text.encode(encoding))
    assert (classify_head(doc.head), doc.read_text(), doc.encoding) == (None, text, encoding)


def test_binary_with_a_nul_every_other_byte_is_not_taken_for_utf16():
    data = bytes(value for n in range(2000) for value in (n % 7 + 1, 0, 0xD8 + n % 4, 0))
    assert sniff_encoding(data) == ("utf-8", 0)


def test_a_few_nul_bytes_do_not_make_text_utf16():
    assert sniff_encoding(b"hello\x00world\x00 and more text\n") == ("utf-8", 0)


def test_invalid_utf8_is_replaced_with_one_notice_naming_byte_and_line():
    data = b"line one\nline two \xff\xfe here\nline three \xc3\nend \xe2\x82\n"
    doc = decoded(data)
    # One U+FFFD per maximal bad sequence (Unicode's recommended practice, as Python's
    # decoder does): the truncated "\xe2\x82" is one character, "\xff\xfe" two.
    assert doc.read_text() == (
        "line one\nline two \ufffd\ufffd here\nline three \ufffd\nend \ufffd\n"
    )
    assert notices(doc) == [
        ("invalid UTF-8 at byte 18 (line 2); decoded with replacement, 5 bad bytes", 2)
    ]


def test_invalid_utf8_line_counts_crlf_and_lone_cr_as_one_break_each():
    doc = decoded(b"a\r\nb\rc\n\x80")
    assert notices(doc) == [
        ("invalid UTF-8 at byte 7 (line 4); decoded with replacement, 1 bad byte", 4)
    ]


def test_odd_trailing_byte_in_utf16_is_replaced_with_a_notice():
    doc = decoded("ab\ncd".encode("utf-16") + b"\x00")
    assert doc.read_text() == "ab\ncd\ufffd"
    assert notices(doc) == [("invalid UTF-16 at byte 12 (line 2); decoded with replacement", 2)]


# --- line ends, terminal codes, NUL -------------------------------------------------------


def test_crlf_and_lone_cr_become_newlines_and_keep_line_numbers():
    text = decoded(b"one\r\ntwo\rthree\nfour\r\n\r\nsix").read_text()
    assert text.split("\n") == ["one", "two", "three", "four", "", "six"]


def test_ansi_escapes_are_removed_and_lines_stay():
    data = (
        b"\x1b[36mAlice:\x1b[0m hello\n"
        b"\x1b]0;window title\x07\x1b[1;31mBob:\x1b[m hi \x1b[2K\n"
        b"\x1b(Bplain\x1b[\n"
        b"end"
    )
    assert decoded(data).read_text() == "Alice: hello\nBob: hi \nplain\nend"


def test_nul_bytes_inside_text_become_replacement_characters_with_one_notice():
    doc = decoded(b"first line\nhello\x00world\nsecond\x00\n")
    assert doc.read_text() == "first line\nhello\ufffdworld\nsecond\ufffd\n"
    assert notices(doc) == [("2 NUL bytes replaced with U+FFFD", 2)]


def test_head_text_uses_the_same_encoding_rules_and_line_ends():
    doc = Document.from_bytes("x.txt", "\x1b[32mA:\x1b[0m hi\r\nB: yo\r\n".encode("utf-16"))
    assert doc.head_text() == "A: hi\nB: yo\n"
    assert notices(doc) == []


def test_head_text_replaces_bad_bytes_without_notices():
    doc = Document.from_bytes("x.txt", b"ok \xff\n")
    assert doc.head_text() == "ok \ufffd\n"
    assert notices(doc) == []


# --- mojibake -------------------------------------------------------------------------


def test_double_encoded_utf8_is_repaired():
    doc = decoded("gate gate pÄ\x81ragate pÄ\x81rasaá¹\x83gate bodhi svÄ\x81hÄ\x81".encode())
    assert doc.read_text() == "gate gate pāragate pārasaṃgate bodhi svāhā"
    assert doc.repaired


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["a", "\n", "Ã", "Â", "ô", "õ", "©", "€", "™", "\x80", "é", "—"]),
                max_size=12).map("".join))
def test_the_byte_check_for_mojibake_misses_nothing_the_text_check_finds(text):
    assert may_hold_mojibake(text.encode(), "utf-8") == bool(_MOJIBAKE_HINT.search(text))


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 80), st.sampled_from(["", "Ã©", "Â\x80", "a"]), st.integers(0, 40))
def test_a_mojibake_hint_after_many_accented_letters_is_found(before, middle, after):
    text = "é" * before + middle + "ü" * after
    assert may_hold_mojibake(text.encode(), "utf-8") == bool(_MOJIBAKE_HINT.search(text))


def test_cp1252_style_mojibake_is_repaired():
    doc = decoded("conversation.txt â€¢ infinite backrooms".encode())
    assert (doc.read_text(), doc.repaired) == ("conversation.txt • infinite backrooms", True)


def test_scraped_dump_is_repaired_line_for_line():
    doc = decoded((FIXTURES / "scraped_mojibake.txt").read_bytes())
    expected = (FIXTURES / "scraped_mojibake.expected.txt").read_text(encoding="utf-8")
    assert doc.read_text() == expected
    assert doc.repaired
    assert notices(doc) == []


def test_dump_double_encoded_as_a_whole_comes_back_even_where_one_line_alone_is_ambiguous():
    # Alone, "é–€" could be what it shows; in a text that is all one mistake it is 門.
    text = "<Claude 1>\nthe gate: 門\n\n<Claude 2>\ngate 羅 gate, pāragate — svāhā\n"
    doc = decoded(misread_as_cp1252(text).encode())
    assert (doc.read_text(), doc.repaired) == (text, True)
    assert notices(doc) == []


def misread_as_cp1252(text: str) -> str:
    """`text` double-encoded the way scraped pages are: its UTF-8 bytes read as cp1252,
    and as Latin-1 where cp1252 has no character."""
    return "".join(bytes([byte]).decode("cp1252", errors="ignore") or chr(byte)
                   for byte in text.encode("utf-8"))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["gate ", "svāhā", "Ýes", "ÁÍÏÐ", "€", "—", "’", "ṃ", "é",
                                 "\n", "🙂", "羅", "x"]), min_size=1, max_size=20).map("".join))
def test_text_double_encoded_as_a_whole_comes_back_exactly(text):
    doc = decoded(misread_as_cp1252(text).encode())
    assert doc.read_text() == text
    assert doc.repaired == (misread_as_cp1252(text) != text)


def test_clean_text_with_real_a_tilde_and_circumflex_is_left_exactly_as_it_is():
    data = (FIXTURES / "clean_accents.txt").read_bytes()
    doc = decoded(data)
    assert doc.read_text() == data.decode("utf-8")
    assert "São Paulo, Ângela, Âme, Ãgua" in doc.read_text()
    assert not doc.repaired


EXAMPLES = json.loads((FIXTURES / "examples.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("example", EXAMPLES, ids=[e["label"] for e in EXAMPLES])
def test_labelled_examples_are_repaired_or_left_exactly_as_they_are(example):
    doc = decoded(example["original"].encode())
    assert doc.read_text() == example["fixed"]
    assert doc.repaired == (example["fixed"] != example["original"])
    assert notices(doc) == []


def test_the_examples_hold_a_negative_set_with_a_before_cp1252_symbols():
    unchanged = [e["original"] for e in EXAMPLES if e["fixed"] == e["original"]]
    assert len(unchanged) >= 5 and any("Â†" in text for text in unchanged)


def test_clean_file_with_a_circumflex_before_cp1252_symbols_is_not_touched():
    data = (FIXTURES / "clean_cp1252_symbols.txt").read_bytes()
    doc = decoded(data)
    assert doc.read_text() == data.decode("utf-8")
    assert "Â†Â" in doc.read_text()
    assert (doc.repaired, notices(doc)) == (False, [])


def test_mojibake_next_to_clean_non_latin_text_is_repaired_line_by_line():
    data = "clean: pāragate\nbroken: pÄ\x81ragate â€” svÄ\x81hÄ\x81\nSão Paulo\n".encode()
    doc = decoded(data)
    assert doc.read_text() == "clean: pāragate\nbroken: pāragate — svāhā\nSão Paulo\n"
    assert doc.repaired


def test_repair_fixes_encoding_only_not_quotes_entities_or_width():
    data = "“quoted” &amp; ＬＯＵＤ ﬁ ā â€¢ done\n".encode()
    assert decoded(data).read_text() == "“quoted” &amp; ＬＯＵＤ ﬁ ā • done\n"


def test_no_repair_when_fix_text_is_off():
    doc = decoded("pÄ\x81ragate".encode(), fix_text=False)
    assert (doc.read_text(), doc.repaired) == ("pÄ\x81ragate", False)


def test_a_guess_that_is_not_a_rereading_is_refused_and_the_lines_stay_as_they_are():
    # "Ã " is "à" only if a no-break space was lost: a guess, not a re-reading, so a line
    # that needs it is not changed at all.
    data = "clean ā\nitâ€™s Ã la carte\nÃ‰cole, voilÃ  the gate\n".encode()  # ā: not one mistake
    doc = decoded(data)
    assert doc.read_text() == "clean ā\nitâ€™s Ã la carte\nÃ‰cole, voilÃ  the gate\n"
    assert not doc.repaired
    assert notices(doc) == []