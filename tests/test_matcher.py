"""The matcher: which occurrences count as hits, where they are, and that counts are exact."""

from __future__ import annotations

import itertools
import pickle
import re
import unicodedata
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backrooms_scan import matcher as matcher_module
from backrooms_scan.matcher import Matcher, available_engines, recitation_regions
from backrooms_scan.patternsets import Pattern, PatternSet, load_pattern_sets
from backrooms_scan.records import Role, Turn

BOTH_ENGINES = pytest.mark.skipif(
    len(available_engines()) < 2, reason="needs pyahocorasick and ahocorasick_rs"
)


def make_turns(*texts: str) -> list[Turn]:
    return [
        Turn("conv", index, "speaker", Role.SPOKEN, text, "source.txt", 1)
        for index, text in enumerate(texts)
    ]


def one_set(*patterns: Pattern, name: str = "test") -> list[PatternSet]:
    return [PatternSet(name, None, (), tuple(patterns), None)]


def found(hits) -> list[tuple[str, int, int, int]]:
    return [(hit.pattern, hit.turn.index, hit.start, hit.end) for hit in hits]


def texts_of(hits) -> list[str]:
    return [hit.text for hit in hits]


# ------------------------------------------------ an independent reference


def reference_fold_char(c: str) -> str:
    step = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", c).casefold())
    step = unicodedata.normalize("NFC", "".join(x for x in step if not unicodedata.combining(x)))
    return "".join(x if unicodedata.category(x)[0] in "LNM" else " " for x in step.lower())


def reference_fold(text: str) -> str:
    return re.sub(" +", " ", "".join(reference_fold_char(c) for c in text)).strip(" ")


def reference_fold_with_offsets(text: str) -> tuple[str, list[int]]:
    produced = [(ch, index) for index, c in enumerate(text) for ch in reference_fold_char(c)]
    folded, offsets = [], []
    for position, (ch, index) in enumerate(produced):
        if ch == " ":
            after_letter = position > 0 and produced[position - 1][0] != " "
            if not (after_letter and any(o != " " for o, _ in produced[position:])):
                continue
        folded.append(ch)
        offsets.append(index)
    return "".join(folded), offsets + [len(text)]


def reference_to_original(text: str, start: int, end: int) -> tuple[int, int]:
    _, offsets = reference_fold_with_offsets(text)
    original_end = offsets[end - 1] + 1
    while original_end < len(text) and reference_fold_char(text[original_end]) == "":
        original_end += 1
    return offsets[start], original_end


def occurrences(haystack: str, needle: str) -> list[tuple[int, int]]:
    """Every occurrence, overlapping ones included, by plain str.find."""
    spans, start = [], haystack.find(needle)
    while start != -1:
        spans.append((start, start + len(needle)))
        start = haystack.find(needle, start + 1)
    return spans


UNSPACED_NAMES = ("CJK ", "HANGUL ", "HIRAGANA ", "KATAKANA", "THAI ", "HALFWIDTH KATAKANA")


def reference_unspaced(ch: str) -> bool:
    return unicodedata.name(ch, "").startswith(UNSPACED_NAMES)


def reference_whole_word(folded: str, start: int, end: int) -> bool:
    def edge_ok(outside: int, inside: int) -> bool:
        if outside < 0 or outside >= len(folded) or folded[outside] == " ":
            return True
        return reference_unspaced(folded[outside]) or reference_unspaced(folded[inside])

    return edge_ok(start - 1, start) and edge_ok(end, end - 1)


def brute_force_recitations(folded: str, phrases: list[str], within: int) -> list[tuple[int, int]]:
    """Try every combination: take the valid region ending first (then the tightest),
    report its earliest (then longest) occurrence, go on after its end."""
    found_occurrences = [occurrences(folded, phrase) for phrase in phrases]
    reported, cursor = [], 0
    while True:
        candidates = [
            combination
            for combination in itertools.product(
                *[[o for o in part if o[0] >= cursor] for part in found_occurrences]
            )
            if max(e for _, e in combination) - min(s for s, _ in combination) <= within
        ]
        if not candidates:
            return reported
        best = min(candidates, key=lambda c: (max(e for _, e in c), -sum(s for s, _ in c)))
        earliest = min(range(len(best)), key=lambda i: (best[i][0], -best[i][1], i))
        reported.append(best[earliest])
        cursor = max(e for _, e in best)


# --------------------------------------------------------- random inputs

PIECES = (
    list("abAB  ,.-\n")
    + ["gate", "Gāte", "GATE", "ß", "ss", "é", "Å", "—"]
    + list("中文揭諦아제가ぎゃＡｂ")
    + ["a\u0301", "𝔊"]
)
RAW_PIECES = PIECES + ["\x00", "a\x00b"]


@st.composite
def turns_and_phrases(draw, pieces=PIECES, max_patterns=4):
    texts = draw(
        st.lists(
            st.lists(st.sampled_from(pieces), max_size=25).map("".join), min_size=1, max_size=4
        )
    )
    phrase_lists = []
    for _ in range(draw(st.integers(1, max_patterns))):
        phrases = []
        for _ in range(draw(st.integers(1, 3))):
            text = texts[draw(st.integers(0, len(texts) - 1))]
            if text and draw(st.booleans()):
                start = draw(st.integers(0, len(text) - 1))
                phrase = text[start : start + draw(st.integers(1, 10))]
            else:
                phrase = "".join(draw(st.lists(st.sampled_from(pieces), min_size=1, max_size=4)))
            phrases.append(phrase)
        phrase_lists.append(phrases)
    return texts, phrase_lists


def counts_by_turn_and_pattern(hits) -> Counter:
    return Counter((hit.turn.index, hit.set, hit.pattern) for hit in hits)


# ------------------------------------------------------------- dense turns

MANTRA_SET = one_set(
    Pattern("full", ("gate gate paragate parasamgate bodhi svaha",), word=True),
    Pattern("opening", ("gate gate paragate",), word=True),
    Pattern("gate", ("gate",)),
    Pattern("closing", ("bodhi svaha",), exact=True),
    Pattern("recited", (), all_of=("gate gate", "bodhi svaha"), within=60),
)


def dense_turns(repeats: int) -> list[Turn]:
    recital = "Gate gate pāragate pārasaṃgate bodhi svāhā, bodhi svaha! "
    return make_turns(recital * repeats, "nothing here", "gate " + recital * 3)


RECITAL = "Gate gate pāragate pārasaṃgate bodhi svāhā, bodhi svaha! "


@pytest.fixture(scope="module")
def long_recital():
    """The hits, as (turn, start, set, pattern, end), of one turn reciting RECITAL more
    times than a search window holds, and of one reciting it three times."""
    def hits_of(text: str) -> list[tuple]:
        return [(h.turn.index, h.start, h.set, h.pattern, h.end)
                for h in Matcher(MANTRA_SET).match(make_turns(text))]

    copies = matcher_module.SEARCH_WINDOW // len(reference_fold(RECITAL)) + 10
    return hits_of(RECITAL * copies), hits_of(RECITAL * 3)


def in_copy(hits: list[tuple], copy: int) -> list[tuple]:
    """The hits that start in the given copy of RECITAL, placed as if in the first."""
    shift = copy * len(RECITAL)
    return [(turn, start - shift, name, pattern, end - shift)
            for turn, start, name, pattern, end in hits if shift <= start < shift + len(RECITAL)]


class TestDenseTurns:
    def test_a_text_longer_than_a_search_window_gives_every_hit_once(self, long_recital):
        hits, three = long_recital
        copies = {}
        for hit in hits:
            copies.setdefault(hit[1] // len(RECITAL), []).append(hit)
        middle = sorted(in_copy(three, 1))
        inner = [sorted(in_copy(copies.get(copy, []), copy)) for copy in range(1, max(copies))]
        assert len(inner) > 18_000 and len(middle) > 5
        assert inner == [middle] * len(inner)

    def test_many_hits_in_a_turn_come_sorted_as_few_do(self, long_recital):
        hits, three = long_recital
        assert len(hits) > 100_000
        assert hits == sorted(hits)
        assert in_copy(hits, 1) == in_copy(three, 1) == sorted(in_copy(three, 1))

    def test_a_turns_hits_read_like_a_list_of_hits(self):
        (match, *_) = Matcher(MANTRA_SET).match_turns(dense_turns(3))
        hits = list(match.hits)
        assert match.hits == hits
        assert [match.hits[i] for i in range(-len(hits), len(hits))] == hits + hits
        assert match.hits[2:5] == hits[2:5]
        assert match.hits.pattern_counts() == Counter((h.set, h.pattern) for h in hits)
        assert match.hits.set_names() == ["test"]


# ------------------------------------------------------------- semantics


class TestOccurrences:
    def test_overlapping_occurrences_each_count(self):
        hits = Matcher(one_set(Pattern("gg", ("gate gate",)))).match(make_turns("gate gate gate"))
        assert found(hits) == [("gg", 0, 0, 9), ("gg", 0, 5, 14)]

    def test_phrase_inside_a_longer_phrase_is_found_too(self):
        sets = one_set(Pattern("gate", ("gate",)), Pattern("gate-gate", ("gate gate",)))
        hits = Matcher(sets).match(make_turns("gate gate"))
        assert found(hits) == [("gate", 0, 0, 4), ("gate-gate", 0, 0, 9), ("gate", 0, 5, 9)]

    def test_two_phrases_of_a_pattern_on_one_span_count_once(self):
        sets = one_set(Pattern("svaha", ("Svāhā", "svaha", "SVAHA")))
        assert found(Matcher(sets).match(make_turns("svaha!"))) == [("svaha", 0, 0, 5)]

    def test_same_phrase_in_two_sets_counts_in_each(self):
        sets = one_set(Pattern("g", ("gate",)), name="a") + one_set(
            Pattern("g", ("gate",)), name="b"
        )
        hits = Matcher(sets).match(make_turns("gate"))
        assert [(hit.set, hit.pattern) for hit in hits] == [("a", "g"), ("b", "g")]

    def test_turns_with_hits_come_with_their_folded_text(self):
        sets = one_set(Pattern("closing", ("bodhi svaha",)), Pattern("raw", ("GATE",), exact=True))
        turns = make_turns("Bodhi — Svāhā!", "nothing", "GATE, gone")
        matches = Matcher(sets).match_turns(turns)
        assert [(m.turn.index, m.folded, [h.pattern for h in m.hits]) for m in matches] == [
            (0, "bodhi svaha", ["closing"]),
            (2, "gate gone", ["raw"]),
        ]

    def test_hits_never_cross_turns(self):
        sets = one_set(Pattern("closing", ("bodhi svaha",)))
        assert Matcher(sets).match(make_turns("gate bodhi", "svaha gate")) == []

    def test_nul_inside_a_turn_is_a_space_not_a_turn_break(self):
        sets = one_set(Pattern("closing", ("bodhi svaha",)))
        assert found(Matcher(sets).match(make_turns("gate", "bodhi\x00svaha"))) == [
            ("closing", 1, 0, 11)
        ]

    def test_exact_hits_never_cross_turns(self):
        sets = one_set(Pattern("x", ("a\x00b",), exact=True))
        assert Matcher(sets).match(make_turns("xa", "bx")) == []
        assert found(Matcher(sets).match(make_turns("xa\x00bx"))) == [("x", 0, 1, 4)]

    def test_hits_come_sorted_by_turn_start_set_and_pattern(self):
        sets = one_set(Pattern("z", ("gate",)), Pattern("a", ("gate",)), name="s2") + one_set(
            Pattern("m", ("bodhi",)), name="s1"
        )
        hits = Matcher(sets).match(make_turns("bodhi gate", "gate"))
        assert [(h.turn.index, h.start, h.set, h.pattern) for h in hits] == [
            (0, 0, "s1", "m"),
            (0, 6, "s2", "a"),
            (0, 6, "s2", "z"),
            (1, 0, "s2", "a"),
            (1, 0, "s2", "z"),
        ]

    def test_no_turns_and_no_patterns_give_no_hits(self):
        assert Matcher(one_set(Pattern("g", ("gate",)))).match([]) == []
        assert Matcher([]).match(make_turns("gate")) == []


class TestFoldedMatching:
    def test_spans_are_offsets_into_the_original_text(self):
        hits = Matcher(one_set(Pattern("gg", ("gate gate",)))).match(
            make_turns("say: Gate,\n  GĀTE!")
        )
        assert found(hits) == [("gg", 0, 5, 17)]
        assert texts_of(hits) == ["Gate,\n  GĀTE"]

    def test_phrase_across_a_line_break_matches(self):
        sets = one_set(Pattern("v", ("liberate all beings",)))
        assert texts_of(Matcher(sets).match(make_turns("liberate all\nbeings"))) == [
            "liberate all\nbeings"
        ]

    def test_sharp_s_matches_ss_and_maps_to_the_whole_letter(self):
        hits = Matcher(one_set(Pattern("s", ("strasse",)))).match(make_turns("die Straße."))
        assert texts_of(hits) == ["Straße"]

    def test_full_width_and_chinese_punctuation_fold(self):
        sets = one_set(Pattern("m", ("gate gate", "揭諦揭諦 波羅揭諦")))
        hits = Matcher(sets).match(make_turns("ＧＡＴＥ ＧＡＴＥ", "揭諦揭諦，波羅揭諦。"))
        assert texts_of(hits) == ["ＧＡＴＥ ＧＡＴＥ", "揭諦揭諦，波羅揭諦"]

    def test_combining_accent_stays_with_its_letter(self):
        hits = Matcher(one_set(Pattern("c", ("cafe",)))).match(make_turns("cafe\u0301 noir"))
        assert texts_of(hits) == ["cafe\u0301"]


class TestWordMode:
    def test_word_pattern_skips_matches_inside_words(self):
        sets = one_set(Pattern("vegan", ("vegan",), word=True))
        hits = Matcher(sets).match(make_turns("Vegan veganism nonvegan vegan_food (vegan)"))
        assert texts_of(hits) == ["Vegan", "vegan", "vegan"]
        assert [hit.start for hit in hits] == [0, 24, 36]

    def test_global_word_flag_applies_to_every_pattern(self):
        sets = one_set(Pattern("vegan", ("vegan",)))
        assert len(Matcher(sets).match(make_turns("veganism vegan"))) == 2
        assert len(Matcher(sets, word=True).match(make_turns("veganism vegan"))) == 1

    def test_chinese_phrase_matches_inside_running_text(self):
        sets = one_set(Pattern("p", ("波羅僧揭諦",), word=True))
        assert len(Matcher(sets).match(make_turns("揭諦波羅僧揭諦菩提"))) == 1

    def test_korean_phrase_matches_with_a_particle_attached(self):
        sets = one_set(Pattern("a", ("아제아제",), word=True))
        assert texts_of(Matcher(sets).match(make_turns("아제아제를 외웠다"))) == ["아제아제"]

    def test_japanese_and_thai_phrases_match_inside_running_text(self):
        sets = one_set(Pattern("j", ("そわか",), word=True), Pattern("t", ("สวาหะ",), word=True))
        assert len(Matcher(sets).match(make_turns("ぼじそわかです", "โพธิสวาหะครับ"))) == 2

    def test_latin_phrase_next_to_cjk_counts(self):
        sets = one_set(Pattern("g", ("gate",), word=True))
        assert len(Matcher(sets).match(make_turns("唱gate了"))) == 1


class TestExactMode:
    def test_global_exact_is_case_sensitive_raw_text(self):
        sets = one_set(Pattern("g", ("gate",)))
        assert found(Matcher(sets, exact=True).match(make_turns("Gate gate"))) == [("g", 0, 5, 9)]

    def test_exact_pattern_keeps_punctuation(self):
        sets = one_set(
            Pattern("raw", ("Gate, gate",), exact=True), Pattern("folded", ("gate gate",))
        )
        hits = Matcher(sets).match(make_turns("Gate, gate", "gate gate"))
        assert found(hits) == [("folded", 0, 0, 10), ("raw", 0, 0, 10), ("folded", 1, 0, 9)]

    def test_exact_word_mode_uses_raw_neighbours(self):
        sets = one_set(Pattern("v", ("vegan",), exact=True, word=True))
        assert [h.start for h in Matcher(sets).match(make_turns("vegan-ish veganism vegan"))] == [
            0,
            19,
        ]


class TestRecitations:
    VOW = Pattern("vow", (), all_of=("liberate all beings", "without number"), within=200)

    def test_recitation_counts_once_at_its_first_phrase(self):
        hits = Matcher(one_set(self.VOW)).match(
            make_turns("I vow to liberate all beings, without number.")
        )
        assert found(hits) == [("vow", 0, 9, 28)]

    def test_phrases_too_far_apart_are_not_a_recitation(self):
        text = "liberate all beings" + " filler" * 40 + " without number"
        assert Matcher(one_set(self.VOW)).match(make_turns(text)) == []

    def test_within_counts_folded_characters_from_first_start_to_last_end(self):
        text = "liberate all beings,   ...   without number"  # folds to 34 characters
        rule = Pattern("r", (), all_of=("liberate all beings", "without number"), within=34)
        assert len(Matcher(one_set(rule)).match(make_turns(text))) == 1
        tighter = Pattern("r", (), all_of=("liberate all beings", "without number"), within=33)
        assert Matcher(one_set(tighter)).match(make_turns(text)) == []

    def test_order_of_the_phrases_does_not_matter(self):
        hits = Matcher(one_set(self.VOW)).match(
            make_turns("Without number, I vow to liberate all beings")
        )
        assert texts_of(hits) == ["Without number"]

    def test_regions_do_not_overlap(self):
        text = "liberate all beings without number liberate all beings without number"
        hits = Matcher(one_set(self.VOW)).match(make_turns(text))
        assert [hit.start for hit in hits] == [0, 35]

    def test_a_phrase_is_not_shared_by_two_recitations(self):
        text = "liberate all beings without number liberate all beings"
        assert len(Matcher(one_set(self.VOW)).match(make_turns(text))) == 1

    def test_recitation_does_not_span_turns(self):
        assert (
            Matcher(one_set(self.VOW)).match(make_turns("liberate all beings", "without number"))
            == []
        )

    def test_a_turn_repeating_the_vow_counts_every_recitation(self):
        text = "I vow to liberate all beings, without number. " * 2000
        assert len(Matcher(one_set(self.VOW)).match(make_turns(text))) == 2000

    def test_region_that_ends_first_wins(self):
        # "a ... b" (far) vs "b a" (close): the close pair ends first and is reported at "b".
        assert recitation_regions([[(0, 1), (20, 21)], [(18, 19)]], within=5) == [(18, 19)]

    def test_region_takes_the_latest_occurrences_before_its_end(self):
        assert recitation_regions([[(0, 1), (4, 5)], [(6, 7)]], within=10) == [(4, 5)]


# ------------------------------------------------------- against brute force


class TestAgainstBruteForce:
    @settings(max_examples=200, deadline=None)
    @given(turns_and_phrases())
    def test_counts_match_brute_force(self, example):
        texts, phrase_lists = example
        phrase_lists = [[p for p in ps if reference_fold(p)] for ps in phrase_lists]
        patterns = [Pattern(f"p{i}", tuple(ps)) for i, ps in enumerate(phrase_lists) if ps]
        sets = one_set(*patterns)
        hits = Matcher(sets).match(make_turns(*texts))
        expected = Counter()
        for index, text in enumerate(texts):
            for pattern in patterns:
                for phrase in {reference_fold(p) for p in pattern.phrases}:
                    expected[(index, "test", pattern.id)] += len(
                        occurrences(reference_fold(text), phrase)
                    )
        assert counts_by_turn_and_pattern(hits) == +expected
        phrases_of = {pattern.id: pattern.phrases for pattern in patterns}
        for hit in hits:
            assert any(
                reference_fold(p) in reference_fold(hit.text) for p in phrases_of[hit.pattern]
            )

    @settings(max_examples=200, deadline=None)
    @given(turns_and_phrases())
    def test_word_mode_counts_match_brute_force(self, example):
        texts, phrase_lists = example
        phrase_lists = [[p for p in ps if reference_fold(p)] for ps in phrase_lists]
        patterns = [
            Pattern(f"p{i}", tuple(ps), word=True) for i, ps in enumerate(phrase_lists) if ps
        ]
        hits = Matcher(one_set(*patterns)).match(make_turns(*texts))
        expected = Counter()
        for index, text in enumerate(texts):
            folded = reference_fold(text)
            for pattern in patterns:
                for phrase in {reference_fold(p) for p in pattern.phrases}:
                    expected[(index, "test", pattern.id)] += sum(
                        reference_whole_word(folded, s, e) for s, e in occurrences(folded, phrase)
                    )
        assert counts_by_turn_and_pattern(hits) == +expected

    @settings(max_examples=200, deadline=None)
    @given(turns_and_phrases(pieces=RAW_PIECES))
    def test_exact_counts_match_brute_force(self, example):
        texts, phrase_lists = example
        patterns = [Pattern(f"p{i}", tuple(ps), exact=True) for i, ps in enumerate(phrase_lists)]
        hits = Matcher(one_set(*patterns)).match(make_turns(*texts))
        expected = Counter()
        for index, text in enumerate(texts):
            for pattern in patterns:
                for phrase in set(pattern.phrases):
                    expected[(index, "test", pattern.id)] += len(occurrences(text, phrase))
        assert counts_by_turn_and_pattern(hits) == +expected
        for hit in hits:
            assert hit.text in {p for pattern in patterns for p in pattern.phrases}

    @settings(max_examples=200, deadline=None)
    @given(
        st.lists(
            st.lists(
                st.sampled_from(["a", "b", "ab", "ba", "x", "A", "b\u0301"]), max_size=14
            ).flatmap(
                lambda words: st.lists(
                    st.sampled_from([" ", ", ", "\n", "  "]),
                    min_size=len(words),
                    max_size=len(words),
                ).map(lambda seps: "".join(w + s for w, s in zip(words, seps)))
            ),
            min_size=1,
            max_size=3,
        ),
        st.lists(
            st.sampled_from(["a", "b", "a b", "ab", "b a", "x", "ba b"]),
            min_size=2,
            max_size=3,
            unique=True,
        ),
        st.integers(1, 20),
    )
    def test_recitations_match_brute_force(self, texts, phrases, within):
        rule = Pattern("rule", (), all_of=tuple(phrases), within=within)
        hits = Matcher(one_set(rule)).match(make_turns(*texts))
        expected = [
            (index, *reference_to_original(text, start, end))
            for index, text in enumerate(texts)
            for start, end in brute_force_recitations(reference_fold(text), phrases, within)
        ]
        assert [(hit.turn.index, hit.start, hit.end) for hit in hits] == sorted(expected)


@BOTH_ENGINES
class TestEngines:
    @settings(max_examples=200, deadline=None)
    @given(turns_and_phrases(), st.booleans(), st.integers(1, 30))
    def test_engines_give_identical_hits(self, example, word, within):
        texts, phrase_lists = example
        phrase_lists = [[p for p in ps if reference_fold(p)] for ps in phrase_lists]
        patterns = [
            Pattern(f"p{i}", tuple(ps), word=word and i % 2 == 0, exact=i % 3 == 2)
            for i, ps in enumerate(phrase_lists)
            if ps
        ]
        all_phrases = sorted({p for ps in phrase_lists for p in ps})
        if len(all_phrases) >= 2:
            patterns.append(Pattern("rule", (), all_of=tuple(all_phrases[:2]), within=within))
        turns = make_turns(*texts)
        slow = Matcher(one_set(*patterns), engine="pyahocorasick").match(turns)
        fast = Matcher(one_set(*patterns), engine="ahocorasick_rs").match(turns)
        assert slow == fast

    def test_auto_prefers_ahocorasick_rs(self):
        assert Matcher([], engine="auto").engine == "ahocorasick_rs"


class TestConstruction:
    def test_unknown_engine_is_refused(self):
        with pytest.raises(ValueError, match="unknown engine 'hyperscan'"):
            Matcher([], engine="hyperscan")

    def test_pyahocorasick_is_always_available(self):
        assert "pyahocorasick" in available_engines()
        assert Matcher([], engine="pyahocorasick").engine == "pyahocorasick"

    def test_matcher_survives_pickling_for_worker_processes(self):
        sets = load_pattern_sets([], [])
        matcher = Matcher(sets, word=True, engine="pyahocorasick")
        copy = pickle.loads(pickle.dumps(matcher))
        turns = make_turns("Gate gate pāragate; vegans and veganism", "Beings are numberless")
        assert copy.engine == "pyahocorasick"
        assert copy.word is True
        assert copy.match(turns) == matcher.match(turns)


# ------------------------------------------------------------ shipped sets


@pytest.fixture(scope="module")
def shipped_matcher():
    return Matcher(load_pattern_sets([], []))


class TestShippedSets:
    @pytest.fixture
    def matcher(self, shipped_matcher):
        return shipped_matcher

    def counts(self, matcher, *texts) -> Counter:
        return Counter(hit.pattern for hit in matcher.match(make_turns(*texts)))

    def test_four_vows_as_chanted_at_sfzc(self, matcher):
        text = (
            "Beings are numberless; I vow to save them.\n"
            "Delusions are inexhaustible; I vow to end them.\n"
            "Dharma gates are boundless; I vow to enter them.\n"
            "Buddha’s way is unsurpassable; I vow to become it."
        )
        assert self.counts(matcher, text) == Counter(
            {
                "save-all-beings": 1,
                "end-delusions": 1,
                "enter-dharma-gates": 1,
                "become-buddha-way": 1,
                "four-vows-recited": 1,
            }
        )

    def test_vow_to_liberate_all_beings(self, matcher):
        text = "I vow to liberate all beings, without number."
        assert self.counts(matcher, text) == Counter({"vow-recitation": 1, "save-all-beings": 1})

    def test_four_vows_in_chinese_korean_and_japanese(self, matcher):
        counts = self.counts(
            matcher,
            "眾生無邊誓願度，煩惱無盡誓願斷，法門無量誓願學，佛道無上誓願成。",
            "중생무변서원도 번뇌무진서원단 법문무량서원학 불도무상서원성",
            "衆生無辺誓願度 煩悩無尽誓願断 法門無量誓願学 仏道無上誓願成",
        )
        for vow in ("save-all-beings", "end-delusions", "enter-dharma-gates", "become-buddha-way"):
            assert counts[vow] == 3

    def test_mantra_in_five_renderings(self, matcher):
        counts = self.counts(
            matcher,
            "GATE GATE PĀRAGATE PĀRASAṂGATE BODHI SVĀHĀ",
            "揭諦揭諦，波羅揭諦，波羅僧揭諦，菩提薩婆訶。",
            "揭谛揭谛 波罗揭谛 波罗僧揭谛 菩提萨婆诃",
            "羯諦羯諦 波羅羯諦 波羅僧羯諦 菩提薩婆訶",
            "아제아제 바라아제 바라승아제 모지사바하",
        )
        assert counts["full-mantra"] == 5
        assert counts["gate-gate-paragate"] == 5
        assert counts["parasamgate"] == 5
        assert counts["bodhi-svaha"] == 5

    def test_word_family_counts_each_form_once(self, matcher):
        text = "A vegan on veganism; vegans and factory farms, factory farming."
        counts = self.counts(matcher, text)
        assert counts["veganism"] == 3
        assert counts["factory-farming"] == 2
