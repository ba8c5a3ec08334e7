"""The byte-level prefilter never misses: no folded (or exact) occurrence of a key in a text
without the prefilter finding the text, in its UTF-8 bytes and in JSON holding it."""

from __future__ import annotations

import importlib.util
import json
from unittest.mock import patch

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from backrooms_scan.foldtables import fold_char, fold_sources
from backrooms_scan.matcher import Matcher
from backrooms_scan.normalize import fold
from backrooms_scan.patternsets import Pattern, PatternSet
from backrooms_scan.prefilter import Prefilter, required_word
from backrooms_scan.records import Role, Turn

# Characters that fold the ways a prefilter can trip over: case, accents precomposed and
# combining, full-width and mathematical letters, ligatures and other multi-character
# foldings, compatibility forms, mojibake-looking pairs, CJK (with compatibility
# ideographs) and Hangul, jamo, and separators of every kind.
ALPHABET = (
    list("abcdefgstuvwxyzABGST0123456789 ,.-'\n\t")
    + list("éèÉāĀṃṣśñüßẞﬁﬂﬀæœøÅåçÇ™℃½①⑩Ⅻ㎏ｇａｔｅＧＡＴＥ𝐠𝐚𝐭𝐞𝔤𝔞𝔱𝔢ǆǅ")
    + ["a\u0301", "\u0300", "\u0308", "\u20dd", "\u00ad", "\u200b", "\ufffd", "Ã©", "â€™"]
    + list("—–’“”…•→│┌█🙂🌊")
    + list("揭諦羯波羅僧菩提薩婆訶眾衆生無邊誓願度\uf900\u2f00⼀")
    + list("아제바라승모지사바하중생무변서원도")
    + ["\u1100\u1161", "\u110b\u1161", "ᄀ", "ᅡ"]
)
texts = st.lists(st.sampled_from(ALPHABET), max_size=30).map("".join)


def sources_variant(draw, key: str) -> str:
    """`key` written with random characters that fold to its characters, combining marks
    slipped between them and random separators for its spaces."""
    sources = fold_sources()
    out = []
    for char in key:
        if char == " ":
            out.append(draw(st.sampled_from([" ", ", ", "\n", "—", "🙂", " \u0301 ", "’ "])))
            continue
        choices = list(sources.sources_of(char)) or [char]
        out.append(draw(st.sampled_from(choices)))
        if draw(st.integers(0, 5)) == 0:
            out.append(draw(st.sampled_from(sources.vanishing[:50] + ("\u0301", "\u0308"))))
    return "".join(out)


@st.composite
def text_holding_a_key(draw):
    """(key, text): a folded key and a text whose folding holds it."""
    key = fold(draw(texts))
    assume(key)
    if draw(st.booleans()):
        text = draw(texts) + sources_variant(draw, key) + draw(texts)
    else:
        text = draw(texts) + draw(texts)
    assume(key in fold(text))
    return key, text


def raw_forms(text: str) -> list[bytes]:
    """Bytes a loader may read `text` from: UTF-8, and JSON strings with and without
    escapes."""
    return [text.encode("utf-8"), json.dumps(text).encode("utf-8"),
            json.dumps(text, ensure_ascii=False).encode("utf-8")]


def folding_windows(how: str):
    """Route windows folded a replace for each character, or by a table of bytes as far
    as one can (what the prefilter does with long windows)."""
    from backrooms_scan import prefilter

    return patch.object(prefilter, "_TABLE_WINDOWS", 0 if how == "by a table" else 10**12)


WINDOW_FOLDINGS = pytest.mark.parametrize("folding", ["a replace for each", "by a table"])


@WINDOW_FOLDINGS
@settings(max_examples=400, deadline=None)
@given(example=text_holding_a_key())
def test_a_folded_key_is_never_missed(folding, example):
    key, text = example
    prefilter = Prefilter(folded_keys=[key])
    with folding_windows(folding):
        screening = prefilter.screen(["unrelated", text, "x"])
        assert 1 in screening.plain + screening.routed
        for data in raw_forms(text):
            assert prefilter.matches(data)


@settings(max_examples=300, deadline=None)
@given(texts, texts, texts)
def test_an_exact_key_is_never_missed(before, key, after):
    assume(key)
    text = before + key + after
    prefilter = Prefilter(exact_keys=[key])
    screening = prefilter.screen([text])
    assert 0 in screening.plain + screening.routed or prefilter.everything
    for data in raw_forms(text):
        assert prefilter.matches(data)


# Filler that puts route characters of "welfare" at every distance from an occurrence.
fillers = st.lists(st.sampled_from(["x", "é", "ë", " ", "\u0301", "—", "\n", "ab" * 40, "b" * 3000]),
                   max_size=40).map("".join)


@WINDOW_FOLDINGS
@settings(max_examples=300, deadline=None)
@given(data=st.data(), before=fillers, after=fillers,
       others=st.lists(fillers, min_size=1, max_size=4))
def test_a_folded_key_is_found_among_route_characters_near_and_far(folding, data, before, after,
                                                                   others):
    """Only the bytes within a word's reach of route characters are folded and searched:
    an occurrence is never cut off, however route characters lie around it or inside it."""
    key = "welfare"
    variant = sources_variant(data.draw, key)
    text = before + variant + after
    prefilter = Prefilter(folded_keys=["animal welfare", key])
    assert key in fold(text)
    with folding_windows(folding):
        assert prefilter.matches(text.encode("utf-8"))
        screening = prefilter.screen([*others, text, *others])
    assert len(others) in screening.plain


def test_text_without_the_key_or_its_characters_is_not_a_candidate():
    prefilter = Prefilter(folded_keys=["animal welfare"])
    screening = prefilter.screen(["the animal is well", "WELFARE of all", "welfarë", "José’s café"])
    assert (screening.plain, screening.routed) == ([1, 2], [])
    assert not prefilter.matches("Zoë and José met at the café — well, “fare”".encode())
    assert not prefilter.matches("the animal — is well’s “fare”".encode())
    assert not prefilter.matches(json.dumps("the \u2019animal\u2019 is well").encode())


def test_escaped_letters_in_json_are_seen():
    prefilter = Prefilter(folded_keys=["welfare"])
    assert prefilter.matches(b'{"text": "w\\u0065lfare"}')
    assert prefilter.matches(b'{"text": "w\\u00E9lfare"}')
    assert not prefilter.matches(b'{"text": "w\\u2014lfare"}')


def test_the_required_word_is_the_longest_word_cut_short():
    assert required_word("gate gate paragate parasamgate") == "parasamgate"
    assert len(required_word("x" * 1000)) == 16


def test_every_character_folding_to_a_letter_is_a_source_of_it():
    """The shipped folding table agrees with `fold_char` for every character tried."""
    sources = fold_sources()
    for char in "aezßｅ𝐞éǅ眾중":
        for source in sources.sources_of(fold_char(char)[0]) if len(fold_char(char)) == 1 else ():
            assert fold_char(source) == fold_char(char)


# ---------------------------------------------------------------- through the matcher


def make_turns(texts_: list[str]) -> list[Turn]:
    return [Turn("c", i, "s", Role.SPOKEN, text, "f.txt", 1) for i, text in enumerate(texts_)]


@st.composite
def pattern_kinds(draw):
    """A pattern set with one pattern of each kind, its phrases drawn from `turn_texts`."""
    turn_texts = draw(st.lists(texts, min_size=1, max_size=4))
    def phrase():
        text = draw(st.sampled_from(turn_texts))
        if text and draw(st.booleans()):
            start = draw(st.integers(0, len(text) - 1))
            return text[start : start + draw(st.integers(1, 12))]
        return draw(texts)
    candidates = [phrase() for _ in range(6)]
    candidates = [c for c in candidates if fold(c)]
    assume(len(candidates) >= 3)
    patterns = (
        Pattern("plain", (candidates[0],)),
        Pattern("word", (candidates[1],), word=True),
        Pattern("exact", (candidates[2],), exact=True),
    )
    if len(candidates) >= 5:
        patterns += (Pattern("recite", (), all_of=(candidates[3], candidates[4]), within=40),)
    return [PatternSet("kinds", None, (), patterns, None)], turn_texts


@WINDOW_FOLDINGS
@settings(max_examples=300, deadline=None)
@given(example=pattern_kinds())
def test_the_matcher_with_the_prefilter_finds_what_the_reference_path_finds(folding, example):
    sets, turn_texts = example
    turns = make_turns(turn_texts)
    fast, reference = Matcher(sets), Matcher(sets, prefilter=False)
    with folding_windows(folding):
        assert fast.match(turns) == reference.match(turns)
        for text in turn_texts:
            if Matcher(sets, prefilter=False).match(make_turns([text])):
                assert all(fast.may_hit(data) for data in raw_forms(text))


def test_cjk_and_hangul_phrases_are_found_through_the_prefilter():
    sets = [PatternSet("vows", None, (), (
        Pattern("zh", ("眾生無邊誓願度",)), Pattern("ko", ("중생무변서원도",), word=True)), None)]
    turns = make_turns(["…眾生無邊誓願度…", "법회에서 중생무변서원도를", "衆生", "nothing"])
    hits = Matcher(sets).match(turns)
    assert [(hit.pattern, hit.turn.index) for hit in hits] == [("zh", 0), ("ko", 1)]
    assert Matcher(sets).match(turns) == Matcher(sets, prefilter=False).match(turns)


def test_a_long_text_is_screened_in_windows_without_missing_a_key(monkeypatch):
    from backrooms_scan import prefilter

    filler = "the corridors hum with breath " * 40
    texts = [filler + "Bodhi svāhā" + filler, filler, filler + "gate gate", filler * 3]
    keys = [fold("bodhi svaha"), fold("gate gate")]
    whole = Prefilter(folded_keys=keys)
    expected = (whole.screen(texts).plain, [whole.matches(t.encode()) for t in texts])
    monkeypatch.setattr(prefilter, "_WINDOW", 7)  # shorter than a key: every key is cut
    windowed = Prefilter(folded_keys=keys)
    assert (windowed.screen(texts).plain,
            [windowed.matches(t.encode()) for t in texts]) == expected == ([0, 2], [
                True, False, True, False])


def test_a_word_without_ascii_is_found_in_its_own_text_and_never_across_two():
    prefilter = Prefilter(folded_keys=["眾生無邊"])
    texts = ["眾生", "無邊 and more", "é", "it is 眾 生 無 邊, spaced", "無邊眾生"]
    assert prefilter.screen(texts).plain == [3]


def hiding(*modules: str):
    """Builds made while this holds find none of `modules` installed."""
    real_find_spec = importlib.util.find_spec
    return patch.object(importlib.util, "find_spec", lambda name, *args: None
                        if name in modules else real_find_spec(name, *args))


@pytest.mark.parametrize("missing", [(), ("hyperscan",), ("hyperscan", "ahocorasick_rs")],
                         ids=["default", "ahocorasick_rs", "pyahocorasick"])
@settings(max_examples=200, deadline=None)
@given(example=text_holding_a_key())
def test_every_literal_engine_misses_nothing(missing, example):
    key, text = example
    with hiding(*missing):
        prefilter = Prefilter(folded_keys=[key, "welfare"], exact_keys=[key.upper()])
    assert 1 in prefilter.screen(["unrelated", text, "x" * 3000 + "é"]).plain
    for data in raw_forms(text):
        assert prefilter.matches(data)


@pytest.mark.parametrize("missing", [(), ("hyperscan",), ("hyperscan", "ahocorasick_rs")],
                         ids=["default", "ahocorasick_rs", "pyahocorasick"])
def test_every_literal_engine_finds_overlapping_and_cased_strings(missing):
    with hiding(*missing):
        prefilter = Prefilter(folded_keys=["gate gate", "ategat", "svaha"], exact_keys=["Bodhi"])
    texts = ["GaTeGaTe", "xx ATEGAT", "bodhi", "Bodhi svāhā", "sva ha", "gat", "SVAHA"]
    assert prefilter.screen(texts).plain == [0, 1, 3, 6]
    assert [prefilter.matches(text.encode()) for text in texts] == [
        True, True, False, True, False, False, True]
