"""Folding: what "the same phrase" means, and how folded text maps back to the original."""

from __future__ import annotations

import functools
import json
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backrooms_scan.normalize import (
    fold,
    fold_char,
    fold_joined,
    fold_with_offsets,
    is_unspaced_script,
    is_whole_word,
    original_span,
    split_joined,
    squeeze_joined,
)


@functools.cache
def reference_fold_char(c: str) -> str:
    """Straight from the definition, written apart from the module under test."""
    step = unicodedata.normalize("NFKC", c)
    step = step.casefold()
    step = unicodedata.normalize("NFKD", step)
    step = "".join(ch for ch in step if unicodedata.combining(ch) == 0)
    step = unicodedata.normalize("NFC", step).lower()
    return "".join(ch if unicodedata.category(ch)[0] in ("L", "N", "M") else " " for ch in step)


def as_lists(folded_and_offsets):
    folded, offsets = folded_and_offsets
    return folded, list(offsets)


def reference_fold_with_offsets(text: str) -> tuple[str, list[int]]:
    """Per character: each folded character with the index it came from; one space
    per run of spaces, from the run's first space-maker; no space at either end."""
    produced = [(ch, index) for index, c in enumerate(text) for ch in reference_fold_char(c)]
    last_letter = max((at for at, (ch, _) in enumerate(produced) if ch != " "), default=-1)
    folded, offsets = [], []
    for position, (ch, index) in enumerate(produced):
        if ch == " ":
            after_letter = position > 0 and produced[position - 1][0] != " "
            letter_follows = position < last_letter
            if not (after_letter and folded and letter_follows):
                continue
        folded.append(ch)
        offsets.append(index)
    return "".join(folded), offsets + [len(text)]


def reference_fold(text: str) -> str:
    return re.sub(" +", " ", "".join(reference_fold_char(c) for c in text)).strip(" ")


TEXT_PIECES = (
    list("abzAZ09 ,.-'!?\n\t_\x01\x7f")
    + list("āéÅßﬁ½⑴İǅ—’…“")
    + list("ñÑṃ─\u00a0\u200b\ufffe")
    + ["a\u0301", "\u0301", "\u0e01\u0e48", "\u0915\u094d"]
    + list("中文揭諦아제가ぎゃｶﾞＡＢａ１\u3000𝔊😀")
)
TRICKY_TEXT = st.lists(st.sampled_from(TEXT_PIECES), max_size=40).map("".join)


class TestFoldingMakesRenderingsEqual:
    def test_diacritics_case_and_punctuation_fold_away(self):
        assert fold("Gate, gate, pāragate pārasaṃgate bodhi svāhā!") == (
            "gate gate paragate parasamgate bodhi svaha"
        )

    def test_full_width_letters_fold_to_ascii(self):
        assert fold("ＧＡＴＥ\u3000ＧＡＴＥ") == "gate gate"

    def test_line_breaks_and_runs_of_space_are_one_space(self):
        assert fold("  I vow to liberate all beings,\n\twithout   number.  ") == (
            "i vow to liberate all beings without number"
        )

    def test_korean_syllables_stay_syllables(self):
        assert fold("아제아제, 바라아제!") == "아제아제 바라아제"

    def test_chinese_punctuation_becomes_space(self):
        assert fold("揭諦揭諦，波羅揭諦。") == "揭諦揭諦 波羅揭諦"

    def test_sharp_s_folds_to_ss(self):
        assert fold("STRASSE Straße") == "strasse strasse"

    def test_ligatures_and_fractions_are_spelt_out(self):
        assert fold("ﬁve ½") == "five 1 2"

    def test_decomposed_accents_fold_like_composed_ones(self):
        assert fold("pa\u0304ragate") == fold("pāragate") == "paragate"

    def test_dotted_capital_i_folds_to_plain_i(self):
        assert fold("İstanbul") == "istanbul"

    def test_kana_voicing_marks_fold_away_in_full_and_half_width(self):
        assert fold("ぎゃてい") == "きゃてい"
        assert fold("ｷﾞｬﾃｲ") == fold("ギャテイ") == "キャテイ"

    def test_text_without_letters_folds_to_nothing(self):
        assert fold("") == ""
        assert fold(" — … ! \n") == ""


class TestFoldChar:
    @pytest.mark.parametrize(
        ("char", "folded"),
        [
            ("A", "a"),
            ("ß", "ss"),
            ("ā", "a"),
            ("—", " "),
            ("\u0301", ""),
            ("가", "가"),
            ("Ａ", "a"),
        ],
    )
    def test_folds_one_character(self, char, folded):
        assert fold_char(char) == folded

    def test_no_character_folds_to_a_separator_or_odd_whitespace(self):
        # The matcher joins folded turns with "\n"; fold's fast path splits on
        # whitespace and lowercases once more: all three rely on this.
        for code in range(sys.maxunicode + 1):
            folded = fold_char(chr(code))
            assert "\n" not in folded and "\x00" not in folded
            assert all(ch == " " or not ch.isspace() for ch in folded), hex(code)
            assert folded.lower() == folded, hex(code)


class TestFoldAgreesWithTheDefinition:
    @settings(max_examples=300, deadline=None)
    @given(TRICKY_TEXT)
    def test_fold_matches_the_reference(self, text):
        assert fold(text) == reference_fold(text)

    @settings(max_examples=300, deadline=None)
    @given(TRICKY_TEXT)
    def test_fold_with_offsets_matches_the_reference(self, text):
        assert as_lists(fold_with_offsets(text)) == reference_fold_with_offsets(text)

    @settings(max_examples=300, deadline=None)
    @given(st.lists(TRICKY_TEXT | st.sampled_from(["\x00", "a\x00b", " \x00 "]), min_size=1, max_size=6))
    def test_folding_joined_texts_gives_each_folding_in_place(self, texts):
        joined = fold_joined(texts)
        foldings, starts = split_joined(joined)
        assert foldings == [reference_fold(text) for text in texts]
        assert [joined[s : s + len(f)] for f, s in zip(foldings, starts)] == foldings
        assert joined.count("\x00") == max(len(texts) - 1, 0)

    @settings(max_examples=300, deadline=None)
    @given(st.lists(TRICKY_TEXT | st.sampled_from(["\x00", "a\x00b", " \x00 "]), min_size=1, max_size=6))
    def test_squeezing_joined_texts_gives_each_folding_without_spaces(self, texts):
        expected = [reference_fold(text.replace("\x00", " ")).replace(" ", "") for text in texts]
        assert squeeze_joined(texts) == "\x00".join(expected)

    def test_fold_with_offsets_on_long_mixed_text(self):
        text = "The Buddha’s way — unsurpassable; 아제아제 바라아제… Straße ½ cafe\u0301!\n" * 50
        assert as_lists(fold_with_offsets(text)) == reference_fold_with_offsets(text)

    def test_fold_with_offsets_of_a_long_text_of_characters_folding_to_several(self):
        # worked out a block at a time; spaces and runs of them fall at the blocks' edges
        text = "".join(("ﬁ", "ß", " ", "～ ", "  ", "e\u0301", "Ǆ,")[n * n % 7] for n in range(600_000))
        folded, offsets = fold_with_offsets(text)
        expected_folded, expected = reference_fold_with_offsets(text)
        assert folded == expected_folded
        assert list(offsets) == expected
        assert [offsets[i] for i in range(0, len(offsets), 997)] == expected[::997]

    @pytest.mark.parametrize("tail", ["e\u0301\u0301 ,\u0301 b ", " \u0301\u0301x", "\u0301 ,  \u0301", "b, c"])
    def test_fold_with_offsets_of_a_long_text_is_its_short_forms_shifted(self, tail):
        # A long text is classified a piece at a time: whatever falls at a piece's edge
        # (marks between a letter and a space, runs of spaces) maps as in a short text.
        short_folded, short_offsets = fold_with_offsets("a" + tail)
        for run in range(2**20 - 6, 2**20 + 6):
            folded, offsets = fold_with_offsets("a" * run + tail)
            assert folded == "a" * (run - 1) + short_folded
            assert list(offsets) == [*range(run - 1), *(o + run - 1 for o in short_offsets)]


class TestOffsets:
    def test_each_folded_character_points_at_its_source(self):
        folded, offsets = fold_with_offsets("Gate, gāte!")
        assert folded == "gate gate"
        assert list(offsets) == [0, 1, 2, 3, 4, 6, 7, 8, 9, 11]

    def test_space_points_at_the_first_separator_of_its_run(self):
        _, offsets = fold_with_offsets("a ,\n b")
        assert list(offsets) == [0, 1, 5, 6]

    def test_expanded_character_gives_its_index_to_every_folded_character(self):
        folded, offsets = fold_with_offsets("Maß")
        assert folded == "mass"
        assert list(offsets) == [0, 1, 2, 2, 3]

    def test_span_maps_back_to_whole_original_characters(self):
        text = "Gate,\n  GĀTE!"
        folded, offsets = fold_with_offsets(text)
        start = folded.index("gate gate")
        assert original_span(text, offsets, start, start + 9) == (0, 12)

    def test_span_ending_inside_an_expansion_covers_the_character(self):
        text = "Maße"
        _, offsets = fold_with_offsets(text)
        assert original_span(text, offsets, 2, 3) == (2, 3)

    def test_span_keeps_combining_marks_after_its_last_letter(self):
        text = "cafe\u0301 noir"
        folded, offsets = fold_with_offsets(text)
        assert folded == "cafe noir"
        assert original_span(text, offsets, 0, 4) == (0, 5)


class TestWordEdges:
    def test_word_needs_non_letters_or_edges_on_both_sides(self):
        assert is_whole_word("a vegan meal", 2, 7)
        assert is_whole_word("vegan", 0, 5)
        assert not is_whole_word("veganism", 0, 5)
        assert not is_whole_word("nonvegan", 3, 8)

    def test_unspaced_scripts_need_no_spaces(self):
        text = "波羅揭諦는"
        assert is_whole_word(text, 2, 4)
        assert is_whole_word("아제아제를", 0, 2)

    def test_latin_phrase_glued_to_cjk_still_counts(self):
        assert is_whole_word("中vegan文", 1, 6)

    @pytest.mark.parametrize("char", ["中", "가", "ぎ", "カ", "ก", "ｶ", "𠀀"])
    def test_scripts_without_spaces(self, char):
        assert is_unspaced_script(char)

    @pytest.mark.parametrize("char", ["a", "ā", "я", "α", "1", " "])
    def test_spaced_scripts(self, char):
        assert not is_unspaced_script(char)


def test_importing_the_package_registers_no_codec_error_handler():
    """The codec registry is the interpreter's: a library that registers handlers on import
    changes it for its host program. Folding registers its own when it first folds."""
    probe = (
        "import codecs, importlib, pkgutil, backrooms_scan\n"
        "for module in pkgutil.walk_packages(backrooms_scan.__path__, 'backrooms_scan.'):\n"
        "    importlib.import_module(module.name)\n"
        "from backrooms_scan.normalize import _ERROR_HANDLERS, fold\n"
        "def registered(name):\n"
        "    try:\n"
        "        codecs.lookup_error(name)\n"
        "    except LookupError:\n"
        "        return False\n"
        "    return True\n"
        "print(any(map(registered, _ERROR_HANDLERS)), fold('Svāhā') == 'svaha')\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=60, check=True)
    assert done.stdout.split()[:2] == ["False", "True"]


def test_offsets_of_a_text_of_many_blocks_read_the_same_in_any_order():
    text = "Gate, gāte!  pāragate —\n bodhi svāhā... " * 20_000  # offsets held in many blocks
    folded, offsets = fold_with_offsets(text)
    expected_folded, expected = reference_fold_with_offsets(text)
    assert (folded, list(offsets), len(offsets)) == (expected_folded, expected, len(expected))
    order = [*range(0, len(expected), 7), *range(len(expected) - 1, -1, -13), -1]
    assert [offsets[i] for i in order] == [expected[i] for i in order]


FOLDINGS = json.loads((Path(__file__).parent / "fixtures" / "normalize" / "foldings.json")
                      .read_text(encoding="utf-8"))


@pytest.mark.parametrize("example", FOLDINGS, ids=[e["label"] for e in FOLDINGS])
def test_labelled_examples_fold_as_written_and_map_back_into_the_original(example):
    original, folded = example["original"], example["folded"]
    assert fold(original) == folded
    text, offsets = fold_with_offsets(original)
    assert text == folded
    start, end = original_span(original, offsets, 0, len(text))
    assert fold(original[start:end]) == folded


def test_the_folding_examples_hold_a_negative_set_of_text_that_folds_to_itself():
    unchanged = [e["original"] for e in FOLDINGS if e["folded"] == e["original"]]
    assert len(unchanged) >= 5 and any("\u1100" in text for text in unchanged)
