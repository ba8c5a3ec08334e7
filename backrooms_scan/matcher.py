"""The Aho-Corasick automaton: Turns -> Hits.

What counts as a hit:

- Every occurrence of any phrase of a pattern is one hit, overlapping ones
  included ("gate gate" occurs twice in "gate gate gate"); two phrases of one
  pattern matching the same span count once. Hits never cross turns.
- Folded mode (the default): turn text and phrases are both folded with
  `normalize.fold`, and hit spans are mapped back to the original text.
  Exact mode (`exact=True`, or `exact: true` on a pattern): raw text,
  case-sensitive.
- Word mode (`word=True`, or `word: true` on a pattern): a hit needs a
  non-letter/digit or the text edge on both sides, except next to scripts
  written without spaces (see `normalize.is_whole_word`).
- Recitation rules (`all_of` + `within`): per turn, the text is searched left
  to right for regions where every listed phrase occurs, with the region (the
  start of its first occurrence to the end of its last) at most `within`
  characters long, folded characters in folded mode. Of the possible regions
  the one that ends first is taken, and within it the latest occurrence of
  each phrase; that region is one hit, reported at its earliest occurrence
  (the longest one, if several start there). The search then goes on after
  the region's end, so regions never overlap. Ending first makes this count
  the largest number of non-overlapping recitations.

Hits come sorted by turn (in the order given), start, set, pattern, end.

One automaton pass covers all the turns of a call: their texts are joined
with NUL and folded in one go (`normalize.fold_joined` keeps the NULs apart),
the automaton runs once over the joined text, and offsets are mapped back to
turns by bisection. Cheaper passes come first: the byte-level prefilter
(`prefilter`) keeps the turns whose UTF-8 holds a key's plain string, and of
those holding only characters it cannot judge, in folded mode, the ones whose
foldings with their spaces dropped (`normalize.squeeze_joined`) hold a key with
its spaces dropped; only those turns are folded and searched as above. Text
that is all ASCII is searched by an automaton of the ASCII keys alone, the
only ones it can hold. `Matcher.may_hit` asks the prefilter about a whole
file's bytes.

A Matcher pickles as its pattern sets and options and rebuilds its automaton
on unpickling, so it can be sent to worker processes.
"""

from __future__ import annotations

import importlib.util
import itertools
from array import array
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from backrooms_scan.normalize import (
    SEPARATOR,
    fold,
    fold_joined,
    fold_with_offsets,
    is_whole_word,
    original_span,
    split_joined,
    squeeze_joined,
)
from backrooms_scan.patternsets import Pattern, PatternSet
from backrooms_scan.prefilter import Prefilter
from backrooms_scan.records import Hit, HitList, Turn

__all__ = ["ENGINES", "Matcher", "TurnMatch", "available_engines", "recitation_regions"]

ENGINES = ("pyahocorasick", "ahocorasick_rs")
_ENGINE_MODULES = {"pyahocorasick": "ahocorasick", "ahocorasick_rs": "ahocorasick_rs"}
LONG_KEY = 10_000  # characters
# Joined texts longer than this many characters are searched a window at a time.
SEARCH_WINDOW = 1 << 20
# A turn with fewer hits sorts them as tuples; one with more, as packed integers,
# about this many at a time.
FEW_HITS = 1000
SORT_RANGE = 1 << 18
# A turn's key occurrences are turned into hits this many numbers (a third as many
# occurrences) at a time.
DRAINED_AT_ONCE = 3 * (1 << 16)


def available_engines() -> list[str]:
    """The automaton engines that can be imported here, preferred first."""
    return [name for name in ENGINES if importlib.util.find_spec(_ENGINE_MODULES[name])]


def _resolve_engine(requested: str) -> str:
    available = available_engines()
    if requested == "auto":
        for name in ("ahocorasick_rs", "pyahocorasick"):
            if name in available:
                return name
        raise ValueError("no Aho-Corasick engine installed (pip install pyahocorasick)")
    if requested not in ENGINES:
        raise ValueError(f"unknown engine '{requested}' (choose from: auto, {', '.join(ENGINES)})")
    if requested not in available:
        hint = "pip install ahocorasick-rs" if requested == "ahocorasick_rs" else ""
        raise ValueError(
            f"engine '{requested}' is not installed ({hint or 'pip install pyahocorasick'})"
        )
    return requested


class _PyAhoCorasick:
    """`find` yields (key id, start, end) of every occurrence, overlapping ones included."""

    def __init__(self, keys: Sequence[str], ids: Sequence[int]):
        import ahocorasick

        self._automaton = ahocorasick.Automaton(ahocorasick.STORE_ANY)
        for key, key_id in zip(keys, ids):
            self._automaton.add_word(key, (key_id, len(key)))
        self._automaton.make_automaton()

    def find(self, haystack: str) -> Iterator[tuple[int, int, int]]:
        for last, (key_id, length) in self._automaton.iter(haystack):
            # The one place pyahocorasick's inclusive end index becomes half-open.
            end = last + 1
            yield key_id, end - length, end


class _AhoCorasickRs:
    def __init__(self, keys: Sequence[str], ids: Sequence[int]):
        import ahocorasick_rs

        keys = list(keys)
        # The default automaton takes seconds to build from one very long key (a whole
        # text as a phrase); a contiguous NFA builds several times faster and searches as fast.
        long_key = max(map(len, keys), default=0) > LONG_KEY
        self._automaton = ahocorasick_rs.AhoCorasick(
            keys, matchkind=ahocorasick_rs.MatchKind.Standard,
            implementation=ahocorasick_rs.Implementation.ContiguousNFA if long_key else None,
        )
        self._ids = None if list(ids) == list(range(len(keys))) else list(ids)

    def find(self, haystack: str) -> Iterable[tuple[int, int, int]]:
        found = self._automaton.find_matches_as_indexes(haystack, overlapping=True)
        if self._ids is None:
            return found
        ids = self._ids
        return [(ids[index], start, end) for index, start, end in found]


class _ByScript:
    """All keys in one automaton, and the ASCII keys alone in another: text that is all
    ASCII (which CPython knows without looking) can only hold those, and an automaton
    without the others runs faster."""

    def __init__(self, engine: type[_PyAhoCorasick | _AhoCorasickRs], keys: Sequence[str]):
        self._all = engine(keys, range(len(keys)))
        ascii_ids = [index for index, key in enumerate(keys) if key.isascii()]
        self._ascii = (
            self._all if len(ascii_ids) == len(keys)
            else engine([keys[index] for index in ascii_ids], ascii_ids) if ascii_ids
            else None
        )

    def find(self, haystack: str) -> Iterable[tuple[int, int, int]]:
        if not haystack.isascii():
            return self._all.find(haystack)
        return self._ascii.find(haystack) if self._ascii is not None else ()


_ENGINE_CLASSES = {"pyahocorasick": _PyAhoCorasick, "ahocorasick_rs": _AhoCorasickRs}


@dataclass(frozen=True, slots=True)
class TurnMatch:
    """A turn with hits: its folded text (`normalize.fold`) and its hits, sorted."""

    turn: Turn
    folded: str
    hits: list[Hit]


@dataclass(frozen=True, slots=True)
class _Target:
    """What a matched key counts for: a pattern, or one phrase of a recitation rule."""

    set_name: str
    pattern_id: str
    word: bool
    rule: int = -1  # index of the recitation rule, -1 for a plain pattern
    part: int = 0  # which of the rule's phrases
    key: tuple[str, str] = ("", "")  # (set_name, pattern_id), made once


@dataclass(frozen=True, slots=True)
class _Rule:
    set_name: str
    pattern_id: str
    parts: int
    within: int
    key: tuple[str, str] = ("", "")  # (set_name, pattern_id), made once


class _Pass:
    """One automaton over the keys matched one way: folded, or raw (exact)."""

    def __init__(self, folded: bool):
        self.folded = folded
        self._targets_by_key: dict[str, list[_Target]] = {}
        self.targets: list[list[_Target]] = []  # by key index, once built
        self.automaton: _ByScript | None = None
        self.screen: _ByScript | None = None  # the keys squeezed, for folded passes
        self.prefilter: Prefilter | None = None
        self.longest = 1  # characters of the longest key, once built

    def add(self, key: str, target: _Target) -> None:
        targets = self._targets_by_key.setdefault(key, [])
        if target not in targets:
            targets.append(target)

    def build(self, engine: str, prefilter: bool) -> None:
        keys = list(self._targets_by_key)
        self.targets = [self._targets_by_key[key] for key in keys]
        self.longest = max(map(len, keys), default=1)
        if keys:
            self.automaton = _ByScript(_ENGINE_CLASSES[engine], keys)
        if keys and prefilter:
            self.prefilter = Prefilter(folded_keys=keys) if self.folded else Prefilter(
                exact_keys=keys)
        if keys and self.folded:
            squeezed = sorted({key.replace(" ", "") for key in keys})
            self.screen = _ByScript(_ENGINE_CLASSES[engine], squeezed)

    def may_hold(self, data: bytes) -> bool:
        """False when the UTF-8 `data` surely holds none of the keys (see `prefilter`)."""
        if self.automaton is None:
            return False
        return self.prefilter is None or self.prefilter.matches(data)

    def candidates(self, turns: Sequence[Turn]) -> Sequence[int]:
        """The indices of the turns that may hold a key: those the prefilter finds a plain
        string in, and of those it finds only route strings in, for a folded pass the
        ones whose squeezed folding holds a squeezed key."""
        if self.prefilter is None:
            return self._squeezed_candidates(turns, range(len(turns)))
        screening = self.prefilter.screen([turn.text for turn in turns])
        if not screening.routed:
            return screening.plain
        return sorted([*screening.plain, *self._squeezed_candidates(turns, screening.routed)])

    def _squeezed_candidates(self, turns: Sequence[Turn], indices: Sequence[int]
                             ) -> Sequence[int]:
        """Of the turns at `indices`, those whose squeezed folding holds a squeezed key
        (all of them for a pass without folding)."""
        if self.screen is None:
            return indices
        squeezed = squeeze_joined([turns[index].text for index in indices])
        starts = {start for _, start, _ in self.screen.find(squeezed)}
        if not starts:
            return []
        turn_starts = _starts_when_joined(squeezed.split(SEPARATOR))
        return [indices[position] for position in
                sorted({bisect_right(turn_starts, start) - 1 for start in starts})]

    def join(self, turns: Sequence[Turn]) -> str:
        """The matched texts of `turns`, joined by the separator."""
        if self.folded:
            return fold_joined([turn.text for turn in turns])
        return SEPARATOR.join(turn.text for turn in turns)

    def spans_by_turn(self, turns: Sequence[Turn]) -> tuple[list[str], dict[int, _Spans]]:
        """The matched text of each turn, and (key index, start, end) of every key
        occurrence by turn, in turn coordinates; no texts when nothing occurs."""
        assert self.automaton is not None
        joined = self.join(turns)
        if self.folded and len(turns) == 1:
            # One turn is searched in its exact folding, which splitting then gives back
            # as it is, and the joining is let go before its occurrences pile up: a long
            # turn's folding is held once, not twice.
            joined = split_joined(joined)[0][0]
        occurrences = _find_in_windows(self.automaton, joined, self.longest)
        first = next(occurrences, None)
        if first is None:
            return [], {}
        if self.folded:
            texts, starts = split_joined(joined)
        else:
            texts = [turn.text for turn in turns]
            starts = _starts_when_joined(texts)
        found: dict[int, _Spans] = {}
        for key_index, start, end in itertools.chain([first], occurrences):
            turn_index = bisect_right(starts, start) - 1
            offset = starts[turn_index]
            if end - offset > len(texts[turn_index]):
                continue  # runs into the next turn (only possible for raw text)
            spans = found.get(turn_index)
            if spans is None:
                spans = found[turn_index] = _Spans(len(texts[turn_index]))
            spans.add(key_index, start - offset, end - offset)
        return texts, found


def _offsets_array(largest: int) -> array:
    """An empty array for key numbers and offsets up to `largest`: 4 bytes an item below
    2**31, which any text read whole stays under, else 8."""
    return array("i" if largest < 2**31 else "q")


class _Spans:
    """Key occurrences in one turn of `length` characters, `key, start, end` each in one
    array: a dense turn holds millions."""

    __slots__ = ("values",)

    def __init__(self, length: int) -> None:
        self.values = _offsets_array(length)

    def add(self, key: int, start: int, end: int) -> None:
        self.values.extend((key, start, end))

    def drain(self) -> Iterator[tuple[int, int, int]]:
        """Every occurrence, the last ones first, each block let go once given, so a turn's
        occurrences and the hits made of them are not both held whole."""
        values = self.values
        while values:
            block = values[-DRAINED_AT_ONCE:]
            del values[-DRAINED_AT_ONCE:]
            items = iter(block)
            yield from zip(items, items, items)


def _find_in_windows(automaton: _ByScript, text: str, longest: int
                     ) -> Iterator[tuple[int, int, int]]:
    """(key index, start, end) of every occurrence in `text`, searched a window at a time
    so a text of 100 MB never has all its occurrences in memory at once. A window runs
    `longest - 1` characters past its end and keeps only what starts before it, so each
    occurrence is found exactly once."""
    if len(text) <= SEARCH_WINDOW + longest:
        yield from automaton.find(text)
        return
    for window_start in range(0, len(text), SEARCH_WINDOW):
        window = text[window_start : window_start + SEARCH_WINDOW + longest - 1]
        for key_index, start, end in automaton.find(window):
            if start < SEARCH_WINDOW:
                yield key_index, window_start + start, window_start + end


def _foldings(phrases: Iterable[str]) -> dict[str, str]:
    """{phrase: fold(phrase)}, folded in one pass: a set of 100,000 phrases folds in a
    fraction of the time one call per phrase takes."""
    phrases = list(phrases)
    folded, _ = split_joined(fold_joined(phrases)) if phrases else ([], [])
    return dict(zip(phrases, folded))


def _starts_when_joined(texts: Sequence[str]) -> list[int]:
    """Where each of `texts` starts in them joined by the one-character separator."""
    return list(itertools.accumulate((len(text) + 1 for text in texts[:-1]), initial=0))


class Matcher:
    """Finds the patterns of some sets in turns; build once, call `match` many times.

    `engine` is the name of the automaton used ("auto" picks ahocorasick_rs
    when it is installed); `sets`, `word` and `exact` are kept as given.
    `prefilter=False` leaves the byte-level prefilter out: every turn is screened
    by its squeezed folding, the reference the prefilter is tested against.
    """

    def __init__(
        self,
        sets: Sequence[PatternSet],
        *,
        word: bool = False,
        exact: bool = False,
        engine: str = "auto",
        prefilter: bool = True,
    ):
        self.sets = tuple(sets)
        self.word = word
        self.exact = exact
        self.engine = _resolve_engine(engine)
        self.prefilter = prefilter
        self._rules: list[_Rule] = []
        self._passes = (_Pass(folded=True), _Pass(folded=False))
        phrases = {phrase for pattern_set in self.sets for pattern in pattern_set.patterns
                   for phrase in (*pattern.phrases, *pattern.all_of)}
        self._keys = _foldings(phrases)
        for pattern_set in self.sets:
            for pattern in pattern_set.patterns:
                self._add(pattern_set.name, pattern)
        del self._keys
        for matching_pass in self._passes:
            matching_pass.build(self.engine, prefilter)

    def __reduce__(self):
        return _rebuild_matcher, (self.sets, self.word, self.exact, self.engine, self.prefilter)

    def _add(self, set_name: str, pattern: Pattern) -> None:
        exact = self.exact or pattern.exact
        word = self.word or pattern.word
        matching_pass = self._passes[1] if exact else self._passes[0]
        if pattern.is_recitation:
            if pattern.within is None or len(pattern.all_of) < 2:
                raise ValueError(f"recitation rule '{pattern.id}' needs 2 phrases and 'within'")
            rule = len(self._rules)
            self._rules.append(_Rule(set_name, pattern.id, len(pattern.all_of), pattern.within,
                                     (set_name, pattern.id)))
            for part, phrase in enumerate(pattern.all_of):
                key = phrase if exact else self._keys[phrase]
                if key:
                    matching_pass.add(
                        key, _Target(set_name, pattern.id, word, rule, part, (set_name, pattern.id)))
            return
        for phrase in pattern.phrases:
            key = phrase if exact else self._keys[phrase]
            if key:
                matching_pass.add(key, _Target(set_name, pattern.id, word, key=(set_name, pattern.id)))

    def may_hit(self, data: bytes) -> bool:
        """False when text whose UTF-8 is `data` (raw bytes that decode to it unchanged, or
        JSON whose strings hold it) surely has no hit (see `prefilter`)."""
        return any(matching_pass.may_hold(data) for matching_pass in self._passes)

    def match(self, turns: Sequence[Turn]) -> list[Hit]:
        """Every hit of every pattern in `turns`, sorted by turn order, start, set, pattern."""
        return [hit for turn_match in self.match_turns(turns) for hit in turn_match.hits]

    def match_turns(self, turns: Sequence[Turn]) -> list[TurnMatch]:
        """The turns that have hits, in order, each with its folded text and sorted hits."""
        hits_by_turn: dict[int, list[_FoundHits]] = {}
        foldings: dict[int, str] = {}
        for matching_pass in self._passes:
            if matching_pass.automaton is None:
                continue
            indices = matching_pass.candidates(turns)
            if not indices:
                continue
            searched = turns if len(indices) == len(turns) else [turns[i] for i in indices]
            texts, spans_by_turn = matching_pass.spans_by_turn(searched)
            while spans_by_turn:  # each turn's occurrences are let go once it has hits
                searched_index, spans = spans_by_turn.popitem()
                turn_index = indices[searched_index]
                hits = self._turn_hits(
                    matching_pass, turns[turn_index], texts[searched_index], spans)
                del spans
                if hits:
                    hits_by_turn.setdefault(turn_index, []).append(hits)
                    if matching_pass.folded:
                        foldings[turn_index] = texts[searched_index]
                del hits  # held by hits_by_turn alone, which sorting empties
        matches = []
        for turn_index in sorted(hits_by_turn):
            turn = turns[turn_index]
            folded = foldings[turn_index] if turn_index in foldings else fold(turn.text)
            matches.append(TurnMatch(turn, folded, _sorted_hits(turn, hits_by_turn.pop(turn_index))))
        return matches

    def _turn_hits(
        self, matching_pass: _Pass, turn: Turn, text: str, spans: _Spans
    ) -> _FoundHits | None:
        """The hits in one turn, from its key occurrences in matched (`text`) coordinates."""
        # Offsets in the folded text, then in the original one.
        found = _FoundHits(max(len(text), len(turn.text)))
        occurrences: dict[int, list[list[tuple[int, int]]]] = {}
        for key_index, start, end in spans.drain():  # in any order: hits are sorted later
            for target in matching_pass.targets[key_index]:
                if target.word and not is_whole_word(text, start, end):
                    continue
                if target.rule < 0:
                    found.add(target.key, start, end)
                else:
                    parts = occurrences.setdefault(
                        target.rule, [[] for _ in range(self._rules[target.rule].parts)]
                    )
                    parts[target.part].append((start, end))
        for rule_index, parts in occurrences.items():
            rule = self._rules[rule_index]
            for start, end in recitation_regions(parts, rule.within):
                found.add(rule.key, start, end)
        if not found.spans:
            return None
        if matching_pass.folded:
            _, offsets = fold_with_offsets(turn.text, folded=text)
            found.to_original(turn.text, offsets)
        return found


class _FoundHits:
    """The hits of one pass in one turn, compactly: (set, pattern) numbers, starts and
    ends up to `largest` in one array, as in HitList."""

    __slots__ = ("keys", "numbers", "spans")

    def __init__(self, largest: int) -> None:
        self.keys: list[tuple[str, str]] = []
        self.numbers: dict[tuple[str, str], int] = {}
        self.spans = _offsets_array(largest)

    def add(self, key: tuple[str, str], start: int, end: int) -> None:
        number = self.numbers.get(key)
        if number is None:
            number = self.numbers[key] = len(self.keys)
            self.keys.append(key)
        self.spans.extend((number, start, end))

    def __iter__(self) -> Iterator[tuple[tuple[str, str], int, int]]:
        spans, keys = iter(self.spans), self.keys
        return ((keys[number], start, end) for number, start, end in zip(spans, spans, spans))

    def to_original(self, text: str, offsets: Sequence[int]) -> None:
        """Map the spans from folded to original coordinates of `text`."""
        spans = self.spans
        for index in range(1, len(spans), 3):
            spans[index], spans[index + 1] = original_span(
                text, offsets, spans[index], spans[index + 1])


def _sorted_hits(turn: Turn, found: list[_FoundHits]) -> HitList:
    """The hits of a turn's passes, sorted by start, set, pattern, end, as one HitList;
    `found` is emptied, so its hits are let go as soon as they are sorted.

    Many hits are sorted as packed integers, a range of starts at a time, so a turn
    with millions of hits needs one 8-byte integer per hit while it is sorted, not a
    tuple or a Python int each, and keeps 12 bytes per hit once sorted."""
    if len(found) == 1 and len(found[0].spans) == 3:
        return HitList(turn, found[0].keys, found[0].spans)
    keys = sorted({key for part in found for key in part.keys})
    total = sum(len(part.spans) for part in found) // 3
    if total < FEW_HITS:
        spans = _offsets_array(len(turn.text))
        number = {key: index for index, key in enumerate(keys)}
        for start, key, end in sorted((start, key, end) for part in found
                                      for key, start, end in part):
            spans.extend((number[key], start, end))
        return HitList(turn, keys, spans)
    rank = {key: number for number, key in enumerate(keys)}
    ranks = len(keys)
    span = 1 + max(part.spans[i + 2] - part.spans[i + 1]
                   for part in found for i in range(0, len(part.spans), 3))
    last = max(part.spans[i] for part in found for i in range(1, len(part.spans), 3))
    fits = ((last + 1) * ranks) * span < 2**63
    count = max(1, total // SORT_RANGE)
    width = last // count + 1
    ranges: list = [array("q") if fits else [] for _ in range(count)]
    while found:
        part = found.pop()
        ranked = [rank[key] for key in part.keys]
        values = iter(part.spans)
        for number, start, end in zip(values, values, values):
            ranges[start // width].append((start * ranks + ranked[number]) * span + end - start)
        del part, values
    spans = _offsets_array(len(turn.text))
    for index in range(count):
        packed = sorted(ranges[index])
        ranges[index] = None
        for value in packed:
            rest, length = divmod(value, span)
            start, number = divmod(rest, ranks)
            spans.extend((number, start, start + length))
        del packed
    return HitList(turn, keys, spans)


def recitation_regions(
    parts: Sequence[Sequence[tuple[int, int]]], within: int
) -> list[tuple[int, int]]:
    """The recitations found, as the span of each region's earliest occurrence.

    `parts[i]` holds the `(start, end)` occurrences of the rule's i-th phrase
    in one turn (all of one length). See the module docstring for how regions
    are chosen. Each search resumes where the last region ended, so a turn
    that repeats a recitation thousands of times stays linear.
    """
    by_start = [sorted(set(occurrences)) for occurrences in parts]
    if not all(by_start):
        return []
    ends_by_part = [[end for _, end in occurrences] for occurrences in by_start]
    region_ends = sorted({end for part_ends in ends_by_part for end in part_ends})
    reported: list[tuple[int, int]] = []
    cursor = 0
    for region_end in region_ends:
        chosen = _region_ending_by(by_start, ends_by_part, region_end, cursor)
        if chosen is None or region_end - min(start for start, _ in chosen) > within:
            continue
        earliest = min(range(len(chosen)), key=lambda i: (chosen[i][0], -chosen[i][1], i))
        reported.append(chosen[earliest])
        cursor = region_end
    return reported


def _region_ending_by(
    by_start: list[list[tuple[int, int]]],
    ends_by_part: list[list[int]],
    region_end: int,
    cursor: int,
) -> list[tuple[int, int]] | None:
    """The latest occurrence of each phrase that starts at `cursor` or later and ends by
    `region_end`; None when a phrase has none."""
    chosen = []
    for occurrences, part_ends in zip(by_start, ends_by_part):
        # Occurrences of one phrase share its length: sorted by start is sorted by end.
        latest = bisect_right(part_ends, region_end) - 1
        if latest < 0 or occurrences[latest][0] < cursor:
            return None
        chosen.append(occurrences[latest])
    return chosen


def _rebuild_matcher(sets: tuple[PatternSet, ...], word: bool, exact: bool, engine: str,
                     prefilter: bool) -> Matcher:
    return Matcher(sets, word=word, exact=exact, engine=engine, prefilter=prefilter)
