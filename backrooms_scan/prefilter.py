"""A byte-level prefilter: which texts can hold a key, found by compiled code in their bytes.

For the keys of one matcher pass the prefilter looks for:

- *plain* strings: for a folded key, its required word W (`required_word`: the
  longest run without spaces, at most `MAX_WORD` characters) in any ASCII case,
  so "Welfare" and "WELFARE" are found; for an exact key, its longest piece
  without a character decoding changes (line breaks, NUL, U+FFFD, ESC);
- *route* characters: every other character that can stand in an occurrence of
  W: the other characters that fold to one of W's characters ("é", "ｅ", "𝐞"),
  the characters that fold to nothing (combining marks, which may sit inside
  W), and those that fold to several characters one of which is in W ("ﬁ",
  "ß", "™"). In raw JSON bytes any of W's characters (or of an exact piece) may
  also stand as a `\\uXXXX` escape, or a `\\"`-style one, so those count as
  route characters there.

Why no hit is lost: folding maps each character to a string (`fold_char`) and
then only collapses runs of spaces, so wherever the folding of a text holds W
the text holds, for each character of W, a character folding to exactly it,
with only characters that fold to nothing between them, unless a character
folding to several characters supplies part of W. If none of those is a route
character, each is W's own character or its ASCII capital, side by side: W's
plain string. Conditions (`word`, recitations' `all_of`/`within`) only remove
hits, and every hit holds one of its pattern's keys.

So text with neither holds no hit, and text with a plain string may. Text with
route characters is looked at again with each of them replaced by its folding
(a `bytes.replace` per character present, usually a few, or for long stretches mostly
one `bytes.translate`): that copy holds W's plain string wherever the text's folding
holds W, so it decides. Only when an exact key has no piece to look for is every text
left to a slower, exact screen.

Plain strings are searched in any ASCII case by hyperscan's literal matcher where it is
installed (a dependency on the platforms it has wheels for), else by Aho-Corasick over the
bytes lowered in ASCII (`ahocorasick_rs`, or pyahocorasick). Route characters are looked
for in what is left of the bytes once the ASCII ones are deleted (a `bytes.translate`),
usually a few percent of them; escapes only where there is a backslash. Only hyperscan's
literal matcher is used: a database mixing a literal with a character-class expression
missed a match of the literal (versions 0.7.23 and 0.9.1).
"""

from __future__ import annotations

import importlib.util
import re
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache, partial
from itertools import accumulate, chain

from backrooms_scan.foldtables import FoldSources, fold_char, fold_sources

__all__ = ["MAX_WORD", "Prefilter", "Screening", "exact_piece", "required_word", "route_chars"]

# Longer words make no string rarer in practice.
MAX_WORD = 16
# Characters an exact key's piece must not hold: decoding creates or removes them.
_DECODING_CHANGES = "\n\r\x00\ufffd\x1b"
_SHORT_JSON_ESCAPES = {'"': b'\\"', "\\": b"\\\\", "/": b"\\/", "\b": b"\\b", "\f": b"\\f",
                       "\n": b"\\n", "\r": b"\\r", "\t": b"\\t"}
_ASCII = bytes(range(128))
_ASCII_BUT_NUL = bytes(range(1, 128))
_NUL = re.compile(b"\x00")


def required_word(key: str) -> str:
    """The part of a folded key the prefilter looks for: its longest word, cut to MAX_WORD."""
    return max(key.split(" "), key=len)[:MAX_WORD]


def exact_piece(key: str) -> str:
    """The part of an exact key the prefilter looks for: its longest piece without a
    character that decoding changes, cut to MAX_WORD; empty when there is none."""
    pieces = [key]
    for char in _DECODING_CHANGES:
        pieces = [part for piece in pieces for part in piece.split(char)]
    return max(pieces, key=len)[:MAX_WORD]


def _plain_forms(char: str) -> tuple[str, ...]:
    """The forms of a folded character that plain text holds: itself, and for an ASCII
    letter its capital."""
    return (char, char.upper()) if char.isascii() and char.isalpha() else (char,)


def route_chars(words: Iterable[str], sources: FoldSources) -> set[str]:
    """The characters that may stand in a folded occurrence of one of `words` that is not
    plain: the sources of their characters other than the plain forms, the characters
    that fold to nothing, and those that fold to several characters one of which is in
    a word."""
    chars = set("".join(words))
    found = {source for char in chars for source in sources.sources_of(char)
             if source not in _plain_forms(char)}
    found.update(sources.vanishing)
    found.update(char for char, folded in sources.several.items() if not chars.isdisjoint(folded))
    return found


def _unicode_escape(char: str) -> bytes:
    """`char` as a JSON `\\uXXXX` escape in lower case, a surrogate pair beyond the BMP."""
    code = ord(char)
    if code < 0x10000:
        return b"\\u%04x" % code
    code -= 0x10000
    return b"\\u%04x\\u%04x" % (0xD800 + (code >> 10), 0xDC00 + (code & 0x3FF))


@dataclass(frozen=True)
class Screening:
    """Which of some texts may hold a key (`plain`), and which the prefilter leaves to an
    exact screen (`routed`), by index; every other text holds no key."""

    plain: list[int]
    routed: list[int]


class Prefilter:
    """What the keys of one pass look like in bytes (see the module docstring)."""

    def __init__(self, folded_keys: Iterable[str] = (), exact_keys: Iterable[str] = ()):
        words = {required_word(key) for key in folded_keys}
        pieces = {exact_piece(key) for key in exact_keys}
        self.everything = "" in pieces  # a key that cannot be screened: every text may hold it
        pieces.discard("")
        sources = fold_sources()
        self.route = frozenset(route_chars(words, sources)) if words else frozenset()
        self._route_foldings = {char.encode("utf-8"): fold_char(char).encode("utf-8")
                                for char in self.route}
        # In raw JSON any source of a character, plain or not, may be escaped.
        escaped = {source for char in set("".join(words)) for source in sources.sources_of(char)}
        escaped |= self.route | set("".join(pieces))
        # Its hex digits may be in either case, and the other escapes' letters need no
        # case told apart: a `\\N` found too only makes the prefilter look again.
        escapes = {*map(_unicode_escape, escaped),
                   *(escape for char, escape in _SHORT_JSON_ESCAPES.items() if char in escaped)}
        self._escapes = _Literals(sorted(escapes), caseless=True)
        # A word without an ASCII character stands whole in the bytes left once the ASCII
        # ones are deleted (they are few); the others are looked for in all the bytes.
        wide = {word for word in words if not any(char.isascii() for char in word)}
        self._words = _Literals([word.encode("utf-8") for word in sorted(words - wide)],
                                caseless=True)
        self._wide_words = _Literals([word.encode("utf-8") for word in sorted(wide)])
        self._pieces = _Literals([piece.encode("utf-8") for piece in sorted(pieces)])
        self._route_literals = _Literals(sorted(self._route_foldings))
        # The same few route characters recur from one text to the next.
        self._byte_folding = lru_cache(maxsize=256)(partial(
            _byte_folding, foldings=self._route_foldings,
            words=frozenset(byte for word in self._words.strings for byte in word)))
        # Words without ASCII are looked for in windows folded one replace at a time, but
        # only when a route character that may stand in one of them is there.
        self._wide_route = frozenset(char.encode("utf-8") for char in route_chars(wide, sources)
                                     ) if wide else frozenset()
        self._reach = max((len(word.encode("utf-8")) for word in words), default=0)

    def matches(self, data: bytes) -> bool:
        """Whether the raw bytes `data` (UTF-8, or JSON in UTF-8) hold a plain string, a
        route character or an escape of a character of a key."""
        if self.everything:
            return True
        # The plain search first: it is the cheapest and, in a dense dump, the usual answer.
        return (self._words.occur_in(data) or self._pieces.occur_in(data)
                or self._in_residue(data, data.translate(None, _ASCII))
                or (b"\\" in data and self._escapes.occur_in(data)))

    def screen(self, texts: Sequence[str]) -> Screening:
        """Which of `texts` hold a plain string, and which only route characters."""
        if self.everything:
            return Screening([], list(range(len(texts))))
        encoded = [text.encode("utf-8", "surrogatepass") for text in texts]
        # One long text is searched as it is, not copied into a joining.
        joined = encoded[0] if len(encoded) == 1 else b"\x00".join(encoded)
        starts = list(accumulate((len(data) + 1 for data in encoded[:-1]), initial=0))
        # No plain string holds NUL, so no match runs from one text into the next.
        ends = chain(self._words.ends_in(joined),
                     self._pieces.ends_in(joined))
        plain = {bisect_right(starts, end - 1) - 1 for end in ends}
        rest = [index for index, data in enumerate(encoded)
                if index not in plain and not data.isascii()]
        if rest:
            found = self._in_residues([encoded[index] for index in rest])
            plain.update(index for index, hit in zip(rest, found) if hit)
        return Screening(sorted(plain), [])

    def _in_residues(self, texts: list[bytes]) -> list[bool]:
        """`_in_residue` of each of `texts`, with one search of their joining for words
        without ASCII and one for route characters."""
        joined = b"\x00".join(texts)
        if joined.count(b"\x00") != len(texts) - 1:  # a text holds NUL: one at a time
            return [self._in_residue(data, data.translate(None, _ASCII)) for data in texts]
        starts = list(accumulate((len(data) + 1 for data in texts[:-1]), initial=0))
        found = [False] * len(texts)
        # NUL stays between the texts' residues, so no word runs from one into the next.
        for index in self._texts_with_wide_words(joined.translate(None, _ASCII_BUT_NUL)):
            found[index] = True
        for index in self._texts_with_folded_words(joined, starts):
            found[index] = True
        return found

    def _in_residue(self, data: bytes, residue: bytes) -> bool:
        """Whether the non-ASCII bytes of `data` hold a word without ASCII, or it holds a
        word once the route characters in it are replaced by their foldings."""
        if not residue:
            return False
        if self._wide_words.occur_in(residue):
            return True
        if self.route.isdisjoint(residue.decode("utf-8", "replace")):
            return False
        if b"\x00" in data:  # NUL separates the windows searched: any other byte will do
            data = data.replace(b"\x00", b"\x01")
        return bool(self._texts_with_folded_words(data, [0]))

    def _texts_with_wide_words(self, residues: bytes) -> set[int]:
        """Which of the NUL-separated `residues` hold a word without ASCII."""
        return {residues.count(b"\x00", 0, start)
                for start, _ in self._wide_words.spans_in(residues)}

    def _texts_with_folded_words(self, joined: bytes, starts: Sequence[int]) -> set[int]:
        """Which of the NUL-separated texts that begin at `starts` in `joined` hold a word
        once their route characters are replaced by their foldings.

        An occurrence of a word whose folding needs route characters is those characters
        with at most a word's bytes of others between them and on either side. So only
        the windows of that reach around runs of route characters are looked at, cut
        where a text ends: joined by NUL, folded with one replace per route character
        present, and searched once.
        """
        found = self._route_literals.found_in(joined)
        if not found:
            return set()
        indexes, span_starts, span_ends = zip(*found)
        windows, owners = self._route_windows(joined, span_starts, span_ends, starts)
        chars = frozenset(self._route_literals.strings[index] for index in set(indexes))
        joined_windows = b"\x00".join(windows)
        # Words without ASCII need every replace, and short windows get them anyway: one
        # folding then serves words of both kinds.
        wide_routed = not chars.isdisjoint(self._wide_route)
        if wide_routed or len(joined_windows) < _TABLE_WINDOWS:
            folded = self._replaced(joined_windows, chars)
        else:
            folded = self._table_folded(joined_windows, chars)
        wide = folded.translate(None, _ASCII_BUT_NUL) if wide_routed else None
        if len(starts) == 1:  # one text: whether a word occurs is all there is to know
            held = self._words.occur_in(folded) or (wide is not None and self._wide_words.occur_in(wide))
            return {0} if held else set()
        separators = [match.start() for match in _NUL.finditer(folded)]
        hits = {owners[bisect_right(separators, end - 1)]
                for end in self._words.ends_in(folded)}
        if wide is not None:
            hits.update(owners[index] for index in self._texts_with_wide_words(wide))
        return hits

    def _table_folded(self, windows: bytes, chars: frozenset[bytes]) -> bytes:
        """`windows` with each of the route characters `chars` (UTF-8) replaced by its
        folding as far as words with ASCII are concerned: most by one `bytes.translate`,
        the others by a `bytes.replace` each (see `_byte_folding`)."""
        replaced, table, deleted = self._byte_folding(chars)
        return self._replaced(windows, replaced).translate(table, deleted)

    def _replaced(self, windows: bytes, chars: Iterable[bytes]) -> bytes:
        """`windows` with each of the route characters `chars` (UTF-8) replaced by its
        folding, a `bytes.replace` for each."""
        for char in chars:
            windows = windows.replace(char, self._route_foldings[char])
        return windows

    def _route_windows(self, data: bytes, span_starts: Sequence[int], span_ends: Sequence[int],
                       starts: Sequence[int]) -> tuple[list[bytes], list[int]]:
        """The windows around runs of route characters (at the spans given) of one text
        each, closer than a word's bytes to each other, each reaching a word's bytes further
        on both sides but not past its text (the texts begin at `starts` in `data`, one NUL
        between them); and the text each window is from. Built by list operations, not a
        loop per span."""
        reach = self._reach
        texts = ([0] * len(span_starts) if len(starts) == 1
                 else [bisect_right(starts, start) - 1 for start in span_starts])
        firsts = [0, *(at for at in range(1, len(span_starts))
                       if span_starts[at] - span_ends[at - 1] > reach or texts[at] != texts[at - 1])]
        lasts = [at - 1 for at in firsts[1:]] + [len(span_starts) - 1]
        owners = [texts[at] for at in firsts]
        text_ends = [*(start - 1 for start in starts[1:]), len(data)]
        windows = [data[max(span_starts[first] - reach, starts[text]):
                        min(span_ends[last] + reach, text_ends[text])]
                   for first, last, text in zip(firsts, lasts, owners)]
        return windows, owners


def _byte_folding(chars: frozenset[bytes], foldings: dict[bytes, bytes], words: frozenset[int]
                  ) -> tuple[tuple[bytes, ...], bytes, bytes]:
    """How to replace each of the route characters `chars` (UTF-8) by its folding (see
    `foldings`) with as few passes as can be: the characters to replace one by one, and
    a `bytes.translate` table with the bytes it deletes, for the others.

    The table folds a character to one ASCII byte, or to nothing, by deleting all its
    bytes but the last and standing that one for its folding; so it takes the characters
    whose bytes no other character needs otherwise: one that folds to several bytes is
    replaced, and so is one whose last byte another stands for a different folding with,
    or deletes (é, ĩ and ũ end in the same byte), and one with a byte of the `words`
    (the bytes of their UTF-8) or of what the replacements give, as the table leaves
    those alone. The replacements come first.

    The table may change other characters too, and so what lies between the route
    characters' occurrences; but an occurrence of a word whose folding needs route
    characters holds nothing else than them and the word's own characters."""
    replaced = [char for char in sorted(chars) if len(foldings[char]) > 1]
    kept = words.union(byte for char in replaced for byte in foldings[char])
    mapped: dict[int, int] = {}
    deleted: set[int] = set()
    for char in sorted(chars.difference(replaced)):
        *leading, last = char
        folding = foldings[char]
        stands = {last: folding[0]} if folding else {}
        deletes = {*leading} if folding else {*leading, last}
        clashes = (not kept.isdisjoint({*stands, *deletes})
                   or not deletes.isdisjoint({*stands, *mapped})  # deleted and standing too
                   or not deleted.isdisjoint(stands)
                   or any(mapped.get(byte, folded) != folded for byte, folded in stands.items()))
        if clashes:
            replaced.append(char)
            continue
        mapped.update(stands)
        deleted.update(deletes)
    table = bytearray(range(256))
    for byte, folded in mapped.items():
        table[byte] = folded
    return tuple(replaced), bytes(table), bytes(sorted(deleted))


# Windows shorter than this, in all, are folded a replace at a time: working out a table
# would cost more than the replaces it saves.
_TABLE_WINDOWS = 2048

# A DFA takes about a microsecond per byte of the strings to build.
_DFA_BYTES = 100_000
# hyperscan takes about 30 ms to build for 2,500 short strings but seconds for 100,000:
# more than this many bytes of strings go to Aho-Corasick, which builds faster.
_HYPERSCAN_BYTES = 200_000
# A haystack longer than this is searched a window of this many bytes at a time.
_WINDOW = 1 << 20


class _Literals:
    """Where some byte strings occur in a haystack, found by a compiled engine; with
    `caseless`, in any ASCII case (the strings themselves being lower case)."""

    def __init__(self, strings: Sequence[bytes], caseless: bool = False):
        self.strings = list(strings)
        # How far a window runs past the next one's start (see `_windows`).
        self._overlap = max(map(len, self.strings), default=1) - 1
        self._caseless = caseless
        self._installed = _installed_engines()

    # Built when first searched with: a scan that never needs some of the strings (the
    # escapes, in a dump without JSON) does not wait for their engine.
    @cached_property
    def _engine(self):
        if not self.strings:
            return None
        return _literal_engine(tuple(self.strings), self._caseless, self._installed)

    def has_strings(self) -> bool:
        return bool(self.strings)

    def ends_in(self, haystack: bytes) -> Iterator[int]:
        """Where occurrences of the strings end (see `spans_in`)."""
        return (end for _, end in self.spans_in(haystack))

    def spans_in(self, haystack: bytes) -> Iterator[tuple[int, int]]:
        """Where occurrences of the strings are, as (start, end), in the order of their
        ends; one that overlaps an occurrence reported before it may go unreported. Found
        a window at a time (see `_windows`), so a dense haystack never has all its matches
        in memory, and a long one is never lowered whole."""
        return ((start, end) for _, start, end in self._found_windowed(haystack))

    def found_in(self, haystack: bytes) -> list[tuple[int, int, int]]:
        """(index in `strings`, start, end) of each occurrence, as `spans_in` finds them,
        all at once: one list from the engine for a haystack of one window."""
        if self._engine is not None and len(haystack) <= _WINDOW + self._overlap:
            return self._engine.found_in(self._as_searched(haystack))
        return list(self._found_windowed(haystack))

    def occur_in(self, haystack: bytes) -> bool:
        if self._engine is None:
            return False
        return any(self._engine.occur_in(window) for _, window in self._windows(haystack))

    def _found_windowed(self, haystack: bytes) -> Iterator[tuple[int, int, int]]:
        """(index, start, end) of each occurrence, in the order of their ends, a window
        at a time."""
        if self._engine is None:
            return
        last_end = 0
        for offset, window in self._windows(haystack):
            for index, start, end in self._engine.found_in(window):
                if offset + start >= last_end:  # not again from the windows' overlap
                    last_end = offset + end
                    yield index, offset + start, last_end

    def _windows(self, haystack: bytes) -> Iterator[tuple[int, bytes]]:
        """(offset, window) pairs covering `haystack` (lowered in ASCII if the engine needs
        it): each window runs one string's length past the next one's start, so every
        occurrence lies whole in one."""
        if len(haystack) <= _WINDOW + self._overlap:
            yield 0, self._as_searched(haystack)
            return
        for start in range(0, len(haystack), _WINDOW):
            yield start, self._as_searched(haystack[start : start + _WINDOW + self._overlap])

    def _as_searched(self, window: bytes) -> bytes:
        """The window as the engine looks through it: lowered in ASCII for a caseless
        search by an engine that has none."""
        return window.lower() if self._caseless and not self._engine.caseless else window


def _installed_engines() -> tuple[str, ...]:
    return tuple(name for name in ("hyperscan", "ahocorasick_rs")
                 if importlib.util.find_spec(name))


# hyperscan's Python binding never frees the memory of a database it compiles
# (darvid/python-hyperscan#46), so the same strings share one engine.
@lru_cache(maxsize=16)
def _literal_engine(strings: tuple[bytes, ...], caseless: bool, installed: tuple[str, ...]):
    """The fastest of the `installed` engines that builds quickly for `strings`:
    hyperscan, then ahocorasick_rs, else pyahocorasick (a dependency, so always there)."""
    if "hyperscan" in installed and sum(map(len, strings)) <= _HYPERSCAN_BYTES:
        engine = _Hyperscan.built_for(strings, caseless)
        if engine is not None:
            return engine
    if "ahocorasick_rs" in installed:
        return _AhoCorasickRs(strings)
    return _PyAhoCorasick(strings)


class _Hyperscan:
    """hyperscan's literal matcher (`hs_compile_lit`), which reports every occurrence,
    overlapping ones too, by a call per match, in the order of their ends."""

    @classmethod
    def built_for(cls, strings: Sequence[bytes], caseless: bool) -> _Hyperscan | None:
        """The matcher, or None for strings hyperscan refuses (the next engine takes them)."""
        import hyperscan

        try:
            return cls(strings, caseless)
        except hyperscan.error:
            return None

    def __init__(self, strings: Sequence[bytes], caseless: bool):
        import hyperscan

        self.caseless = caseless
        self._terminated = hyperscan.ScanTerminated
        flags = hyperscan.HS_FLAG_SOM_LEFTMOST | (hyperscan.HS_FLAG_CASELESS if caseless else 0)
        self._database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        self._database.compile(expressions=list(strings), ids=list(range(len(strings))),
                               elements=len(strings), flags=[flags] * len(strings), literal=True)

    def found_in(self, window: bytes) -> list[tuple[int, int, int]]:
        found: list[tuple[int, int, int]] = []
        self._database.scan(window, match_event_handler=lambda index, start, end, _flags, _context:
                            found.append((index, start, end)))
        return found

    def occur_in(self, window: bytes) -> bool:
        try:
            self._database.scan(window, match_event_handler=_stop)
        except self._terminated:
            return True
        return False


def _stop(*_match) -> bool:
    return True


class _AhoCorasickRs:
    caseless = False

    def __init__(self, strings: Sequence[bytes]):
        import ahocorasick_rs

        # A DFA searches fastest but takes seconds to build for many thousands of long
        # strings; the library's own choice is then quicker overall.
        fast = sum(map(len, strings)) <= _DFA_BYTES
        self._automaton = ahocorasick_rs.BytesAhoCorasick(
            strings, implementation=ahocorasick_rs.Implementation.DFA if fast else None)

    def found_in(self, window: bytes) -> list[tuple[int, int, int]]:
        return self._automaton.find_matches_as_indexes(window)

    def occur_in(self, window: bytes) -> bool:
        return bool(self._automaton.find_matches_as_indexes(window))


class _PyAhoCorasick:
    caseless = False

    def __init__(self, strings: Sequence[bytes]):
        import ahocorasick

        # pyahocorasick searches str: bytes read as Latin-1 are one character each.
        self._automaton = ahocorasick.Automaton()
        for index, string in enumerate(strings):
            self._automaton.add_word(string.decode("latin-1"), (index, len(string)))
        self._automaton.make_automaton()

    def found_in(self, window: bytes) -> list[tuple[int, int, int]]:
        return [(index, last + 1 - length, last + 1)
                for last, (index, length) in self._automaton.iter(window.decode("latin-1"))]

    def occur_in(self, window: bytes) -> bool:
        return next(self._automaton.iter(window.decode("latin-1")), None) is not None
