"""Text folding for "folded" matching, with a map back to the original text.

The folding is defined per character, so every folded character can be traced
to the character it came from:

1. each character ``c`` becomes
   ``NFC(strip_combining(NFKD(NFKC(c).casefold()))).lower()``, where
   ``strip_combining`` drops characters whose ``unicodedata.combining`` class is
   not 0 (accents, the Japanese voicing marks; "ā" -> "a", "ぎ" -> "き");
2. any resulting character that is not a letter, digit or mark (Unicode
   category L*, N* or M*) becomes a space;
3. every run of spaces collapses to one space, and leading and trailing space
   is dropped.

So "Gate, gate, pāragate!" folds to "gate gate paragate", "ＧＡＴＥ" to "gate",
"ß" to "ss", line breaks to spaces, and Hangul syllables and Chinese characters
stay as they are. Folded text never holds a line break or NUL, so either can
join folded texts without being mistaken for part of a phrase.

Because the definition is per character, text written in decomposed form
folds by its parts: a letter followed by a combining accent folds to the bare
letter, but decomposed Hangul jamo are not recomposed into syllables.
"""

from __future__ import annotations

import codecs
import itertools
import re
import unicodedata
from array import array
from bisect import bisect_right
from collections.abc import Sequence
from functools import cache

from backrooms_scan.foldtables import fold_char
from backrooms_scan.sequences import MadeOnRead

__all__ = [
    "SEPARATOR",
    "fold",
    "fold_char",
    "fold_joined",
    "fold_with_offsets",
    "is_unspaced_script",
    "is_whole_word",
    "is_word_char",
    "original_span",
    "split_joined",
    "squeeze_joined",
]


class _FoldTable(dict):
    """A `str.translate` table that folds each character on first sight and keeps it."""

    def __missing__(self, code: int) -> str:
        folded = fold_char(chr(code))
        self[code] = folded
        return folded


_FOLD_TABLE = _FoldTable()


# Most runs are one or two characters (’, —, ā); their foldings are kept ready.
_SHORT_RUN_FOLDS: dict[str, bytes] = {}


def _fold_non_ascii_run(error: UnicodeEncodeError) -> tuple[bytes, int]:
    """Codec error handler: replace a run of non-ASCII characters by its folding, as UTF-8."""
    end = error.end
    run = error.object[error.start : end]
    folded = _SHORT_RUN_FOLDS.get(run)
    if folded is None:
        folded = run.translate(_FOLD_TABLE).encode("utf-8")
        if len(run) <= 2:
            _SHORT_RUN_FOLDS[run] = folded
    return folded, end


_FOLD_ERRORS = "backrooms_scan.fold"

# ASCII letters to lowercase, digits kept, every other ASCII byte to a space;
# bytes of UTF-8 sequences (already folded) pass through.
_ASCII_FOLD_BYTES = bytes(
    (c | 0x20) if chr(c).isalpha() else c if chr(c).isdigit() else 0x20 for c in range(128)
) + bytes(range(128, 256))
_SPACE_RUN = re.compile(b"  +")
_NOT_SPACE = re.compile(b"[^ ]")
# `_collapsed` works on blocks of about this many bytes: `re.sub` keeps a piece and a
# replacement per run until it joins them, 20 times the size of text dense in runs.
COLLAPSE_BLOCK = 1 << 20
# Joins texts folded together (`fold_joined`, `squeeze_joined`); no character folds to it.
SEPARATOR = "\x00"


# Common non-ASCII characters of prose, box drawing and transliterated Sanskrit,
# in order of preference for the 128 one-byte codes above ASCII. Those that fold
# to one ASCII letter or digit, or to spaces only, get a code.
_COMMON_CHARACTERS = (
    "’‘“”—–…•·\u00a0\u2009\u200b‐‑‒―′″‹›«»‚„"
    "àáâãäåèéêëìíîïòóôõöùúûüýÿñç"
    "āēīōūśṣṃṇṭḍḥṛṅ"
    "→←↑↓↔⇒∞≈≠≤≥±×÷°§¶©®¡¿✓✔✗★☆♥◯○●■□▪▲▼◆◇─━│┃┌┐└┘├┤┬┴┼═║╔╗╚╝█▀▄░▒▓"
    "ÀÁÂÃÄÅÈÉÊËÌÍÎÏÒÓÔÕÖÙÚÛÜÝÑÇĀĪŪŚṢṂṆ"
)
_COMMON_FOLDS = [
    (char, folded if folded.strip(" ") else " ")
    for char in _COMMON_CHARACTERS
    if (folded := fold_char(char)) and (len(folded) == 1 and folded.isascii() or not folded.strip(" "))
][:128]
# A one-byte code per ASCII character (itself) and per common character; and the
# folding of each code, as for `_ASCII_FOLD_BYTES`.
_COMMON_CODES = codecs.charmap_build(
    ("".join(map(chr, range(128))) + "".join(char for char, _ in _COMMON_FOLDS)).ljust(256, "\ufffe")
)
_COMMON_CODE_FOLDS = (
    _ASCII_FOLD_BYTES[:128] + "".join(folded for _, folded in _COMMON_FOLDS).encode("ascii")
).ljust(256, b" ")
# The same tables, except that NUL, the separator of `fold_joined`, is kept.
_ASCII_FOLD_KEEPING_NUL = b"\x00" + _ASCII_FOLD_BYTES[1:]
_COMMON_CODE_FOLDS_KEEPING_NUL = b"\x00" + _COMMON_CODE_FOLDS[1:]


def _fold_to_ascii(error: UnicodeEncodeError) -> tuple[str, int]:
    """Codec error handler: a run of uncommon characters folded, when that is ASCII."""
    folded = error.object[error.start : error.end].translate(_FOLD_TABLE)
    if not folded.isascii():
        raise error
    return folded, error.end


_FOLD_TO_ASCII_ERRORS = "backrooms_scan.fold_to_ascii"


# What each byte table folds to a space; `_fold_bytes` drops these to squeeze text.
def _space_makers(table: bytes) -> bytes:
    return bytes(code for code in range(256) if table[code] == 0x20)


_SPACE_MAKERS = {
    table: _space_makers(table)
    for table in (_ASCII_FOLD_BYTES, _ASCII_FOLD_KEEPING_NUL,
                  _COMMON_CODE_FOLDS, _COMMON_CODE_FOLDS_KEEPING_NUL)
}


def _fold_bytes(text: str, keep_nul: bool = False, squeeze: bool = False) -> bytes:
    """Every character of `text` folded, as UTF-8, before runs of spaces are collapsed;
    NUL stays NUL when `keep_nul` is set, and spaces are dropped when `squeeze` is."""
    if not text.isascii():
        try:
            # Text made of ASCII and common characters folds in C; other characters
            # that fold to ASCII go through the error handler.
            codes = codecs.charmap_encode(text, _handler(_FOLD_TO_ASCII_ERRORS), _COMMON_CODES)[0]
            return _translate(codes, _COMMON_CODE_FOLDS_KEEPING_NUL if keep_nul
                              else _COMMON_CODE_FOLDS, squeeze)
        except UnicodeEncodeError:
            pass
    # Encoding to ASCII finds the non-ASCII runs at C speed and hands each to
    # the error handler, which folds it; one byte table then folds the ASCII.
    return _translate(text.encode("ascii", _handler(_FOLD_ERRORS)),
                      _ASCII_FOLD_KEEPING_NUL if keep_nul else _ASCII_FOLD_BYTES, squeeze)


def _translate(data: bytes, table: bytes, squeeze: bool) -> bytes:
    return data.translate(table, _SPACE_MAKERS[table]) if squeeze else data.translate(table)


def fold(text: str) -> str:
    """Fold `text` for matching (see the module docstring); fast on mostly-ASCII text."""
    return _collapsed(_fold_bytes(text)).strip(b" ").decode("utf-8")


def fold_joined(texts: Sequence[str]) -> str:
    """The foldings of `texts` joined by NUL, folded in one pass instead of one per text.

    Each folding may keep one space on either side (trimming them would cost
    another pass); no phrase starts or ends with a space, so a search finds
    the same phrases. `split_joined` gives the exact foldings back. A NUL
    inside a text folds to a space, as in `fold`, so the NULs of the result
    are exactly the separators.
    """
    return _collapsed(_fold_bytes(_joined_with_nul(texts), keep_nul=True)).decode("utf-8")


def _collapsed(data: bytes) -> bytes:
    """`data` with each run of spaces made one space, a block at a time, each block
    ending before a byte that is not a space so that no run is split."""
    if len(data) <= COLLAPSE_BLOCK:
        return _SPACE_RUN.sub(b" ", data)
    blocks, start = [], 0
    while start < len(data):
        found = _NOT_SPACE.search(data, start + COLLAPSE_BLOCK)
        end = len(data) if found is None else found.start()
        blocks.append(_SPACE_RUN.sub(b" ", data[start:end]))
        start = end
    return b"".join(blocks)


def squeeze_joined(texts: Sequence[str]) -> str:
    """The foldings of `texts` without their spaces, joined by NUL: exactly
    ``"\x00".join(fold(text).replace(" ", "") for text in texts)``.

    Squeezing needs no pass to collapse runs of spaces, so it is cheaper than
    `fold_joined`; a phrase whose folding occurs in a text's folding occurs,
    squeezed, in the text's squeezing, so it screens out texts that hold none.
    """
    return _fold_bytes(_joined_with_nul(texts), keep_nul=True, squeeze=True).decode("utf-8")


def _joined_with_nul(texts: Sequence[str]) -> str:
    """`texts` joined by NUL, any NUL inside them made a space (which folds the same)."""
    joined = SEPARATOR.join(texts)
    if joined.count(SEPARATOR) >= len(texts):
        joined = SEPARATOR.join(text.replace(SEPARATOR, " ") for text in texts)
    return joined


def split_joined(joined: str) -> tuple[list[str], list[int]]:
    """The exact foldings in the output of `fold_joined` (for one text or more), and
    where each starts in it."""
    texts, starts, position = [], [], 0
    for padded in joined.split(SEPARATOR):
        text = padded.strip(" ")
        texts.append(text)
        starts.append(position + (padded[:1] == " " and len(text) > 0))
        position += len(padded) + 1
    return texts, starts


# How each character folds, one byte per character, for building offset maps
# at C speed: one letter/digit/mark, only spaces, nothing, or anything else.
_ONE, _SPACES, _NOTHING, _OTHER = b"w", b"s", b"z", b"x"


def _fold_class(c: str) -> bytes:
    folded = fold_char(c)
    if len(folded) == 1 and folded != " ":
        return _ONE
    if not folded:
        return _NOTHING
    return _SPACES if not folded.strip(" ") else _OTHER


_CLASS_MARKERS = {_ONE: "\x80", _SPACES: "\x81", _NOTHING: "\x82", _OTHER: "\x83"}


class _ClassTable(dict):
    """A `str.translate` table from a character to a marker of its fold class."""

    def __missing__(self, code: int) -> str:
        marker = _CLASS_MARKERS[_fold_class(chr(code))]
        self[code] = marker
        return marker


_CLASS_TABLE = _ClassTable()


def _classify_non_ascii_run(error: UnicodeEncodeError) -> tuple[bytes, int]:
    run = error.object[error.start : error.end]
    return run.translate(_CLASS_TABLE).encode("latin-1"), error.end


_CLASS_ERRORS = "backrooms_scan.fold_class"
_ERROR_HANDLERS = {_FOLD_ERRORS: _fold_non_ascii_run, _FOLD_TO_ASCII_ERRORS: _fold_to_ascii,
                   _CLASS_ERRORS: _classify_non_ascii_run}


@cache
def _handler(name: str) -> str:
    """The name of one of the codec error handlers above, registered with the interpreter's
    codec registry the first time a text is folded, not when the module is imported."""
    codecs.register_error(name, _ERROR_HANDLERS[name])
    return name
_CLASS_BYTES = bytes((_ONE if chr(c).isalnum() else _SPACES)[0] for c in range(128)) + (
    _ONE + _SPACES + _NOTHING + _OTHER
).ljust(128, _OTHER)
# A space in the folding comes from the first space-making character after a
# letter; characters that fold to nothing (combining marks) may come between.
_SPACE_ORIGIN_AFTER_MARKS = re.compile(rb"w(z*)s")
_EMITS = bytes.maketrans(b"wszxS", b"\x01\x00\x00\x00\x01")


def _offset_array(values=()) -> array:
    """Offsets as 4-byte integers: a turn with a hit may be hundreds of MB long."""
    return array("I", values)


def fold_with_offsets(text: str, folded: str | None = None) -> tuple[str, Sequence[int]]:
    """`fold(text)` plus, per folded character, the index of the original character it
    came from, followed by `len(text)` as a sentinel. A caller that has folded `text`
    already passes the result as `folded`, which saves folding it again."""
    if len(text) > 4 * _SelectedOffsets.BLOCK:
        offsets: Sequence[int] | None = _SelectedOffsets.of(text)
        if offsets is None:
            offsets = _PerCharOffsets(text)
    else:
        classes = _fold_classes(text)
        emits = None if _OTHER in classes else _emits(classes[: classes.rfind(_ONE) + 1])
        offsets = None if emits is None else _offset_array(
            itertools.compress(range(len(emits)), emits))
        if offsets is not None:
            offsets.append(len(text))
    if offsets is None:
        return _fold_with_offsets_per_char(text)
    return fold(text) if folded is None else folded, offsets


def _fold_classes(text: str) -> bytes:
    return text.encode("ascii", _handler(_CLASS_ERRORS)).translate(_CLASS_BYTES)


def _emits(classes: bytes) -> bytes:
    """From the fold classes of a text up to its last letter, a byte per character: 1
    where a folded character comes from (letters, and the first space-maker of each run
    of spaces between letters), else 0."""
    if _NOTHING in classes:
        marked = _SPACE_ORIGIN_AFTER_MARKS.sub(rb"w\1S", classes)
    else:
        marked = classes.replace(b"ws", b"wS")
    return marked.translate(_EMITS)


class _BlockOffsets(MadeOnRead[int]):
    """The offsets of a long text kept as a count of folded characters per block of the
    text: a block's offsets are worked out again from its characters when one of them is
    read, so a turn of 100 MB needs no map of 100 MB or more. Reading offsets in about
    increasing order, as hits are, expands one block at a time. The last offset is the
    sentinel `len(text)`."""

    BLOCK = 1 << 16

    def __init__(self, text: str, before: list[int]):
        self._text = text
        self._before = before  # folded characters before each block, and in all
        self._expanded: tuple[int, array] = (-1, _offset_array())

    def _block_emits(self, block: int) -> array:
        """The offsets of the folded characters of one block."""
        raise NotImplementedError

    def __len__(self) -> int:
        return self._before[-1] + 1

    def _item(self, index: int):
        if index == self._before[-1]:
            return len(self._text)
        block = bisect_right(self._before, index) - 1
        if self._expanded[0] != block:
            self._expanded = (block, self._block_emits(block))
        return self._expanded[1][index - self._before[block]]

    def __iter__(self):
        for block in range(len(self._before) - 1):
            yield from self._block_emits(block)
        yield len(self._text)


class _SelectedOffsets(_BlockOffsets):
    """The offsets of a long text whose characters fold to one character or none."""

    def __init__(self, text: str, before: list[int], carries: list[bytes], last_one: int):
        super().__init__(text, before)
        self._carries = carries  # the last class before each block that is not "nothing"
        self._last_one = last_one

    @classmethod
    def of(cls, text: str) -> _SelectedOffsets | None:
        """The offsets of `text`; None when a character folds to several characters."""
        before, carries, carry = [0], [], b""
        last_one = -1
        for start in range(0, len(text), cls.BLOCK):
            classes = _fold_classes(text[start : start + cls.BLOCK])
            if _OTHER in classes:
                return None
            found = classes.rfind(_ONE)
            last_one = start + found if found >= 0 else last_one
            carries.append(carry)
            before.append(before[-1] + _emits(carry + classes).count(1, len(carry)))
            carry = classes.rstrip(_NOTHING)[-1:] or carry
        offsets = cls(text, before, carries, last_one)
        # Nothing after the last letter is folded: count its block again, up to it.
        last_block = max(last_one, 0) // cls.BLOCK
        kept = len(offsets._block_emits(last_block)) if last_one >= 0 else 0
        del before[last_block + 1:]
        before.append(before[last_block] + kept)
        return offsets

    def _block_emits(self, block: int) -> array:
        """The offsets of the folded characters of one block."""
        start = block * self.BLOCK
        end = min(start + self.BLOCK, self._last_one + 1)
        carry = self._carries[block]
        emits = _emits(carry + _fold_classes(self._text[start:end]))[len(carry):]
        return _offset_array(itertools.compress(range(start, end), emits))


class _PerCharOffsets(_BlockOffsets):
    """The offsets of a long text with characters that fold to several characters, a
    block at a time as `_fold_block` works them out: 4 bytes a character at most for
    one block, instead of a list entry and an offset for every character of the text."""

    def __init__(self, text: str):
        before, states, state = [0], [], (False, None)
        for start in range(0, len(text), self.BLOCK):
            states.append(state)
            count, state = _fold_block(text, start, start + self.BLOCK, state)
            before.append(before[-1] + count)
        super().__init__(text, before)
        self._states = states  # where the folding stands at the start of each block

    def _block_emits(self, block: int) -> array:
        offsets = _offset_array()
        start = block * self.BLOCK
        _fold_block(self._text, start, start + self.BLOCK, self._states[block], offsets=offsets)
        return offsets


_FoldState = tuple[bool, "int | None"]  # a letter came yet; where a pending space comes from


def _fold_block(text: str, start: int, end: int, state: _FoldState,
                chars: list[str] | None = None, offsets: array | None = None
                ) -> tuple[int, _FoldState]:
    """Fold `text[start:end]` a character at a time, going on from `state`: how many
    folded characters it gives and the state after it; each one is appended to `chars`
    and its offset to `offsets` when they are given. A run of spaces becomes one space
    when a letter follows it, none before the first letter or after the last."""
    table = _FOLD_TABLE
    started, space_from = state
    count = 0
    for index in range(start, min(end, len(text))):
        for folded in table[ord(text[index])]:
            if folded == " ":
                if started and space_from is None:
                    space_from = index
                continue
            if space_from is not None:
                count += 1
                if chars is not None:
                    chars.append(" ")
                if offsets is not None:
                    offsets.append(space_from)
                space_from = None
            count += 1
            started = True
            if chars is not None:
                chars.append(folded)
            if offsets is not None:
                offsets.append(index)
    return count, (started, space_from)


def _fold_with_offsets_per_char(text: str) -> tuple[str, array]:
    """`fold_with_offsets` for text with characters that fold to several characters."""
    chars: list[str] = []
    offsets = _offset_array()
    _fold_block(text, 0, len(text), (False, None), chars, offsets)
    offsets.append(len(text))
    return "".join(chars), offsets


def original_span(text: str, offsets: Sequence[int], start: int, end: int) -> tuple[int, int]:
    """The `[start, end)` span of `text` whose folding holds folded span `[start, end)`.

    `offsets` comes from `fold_with_offsets(text)`. The span ends after the
    original character of the last folded character, plus any combining marks
    that follow it (they fold to nothing but belong to that letter).
    """
    if end <= start:
        origin = offsets[start]
        return origin, origin
    original_end = offsets[end - 1] + 1
    while original_end < len(text) and not _FOLD_TABLE[ord(text[original_end])]:
        original_end += 1
    return offsets[start], original_end


def is_word_char(ch: str) -> bool:
    """Letters, digits and marks make words; everything else separates them."""
    return unicodedata.category(ch)[0] in "LNM"


def is_whole_word(text: str, start: int, end: int) -> bool:
    """Whether `text[start:end]` is not glued to a letter or digit on either side.

    An edge is also fine when the character just inside or just outside it is
    of a script written without spaces (Chinese, Japanese, Korean, Thai...),
    so phrases in those scripts still match inside running text.
    """
    return _is_word_edge(text, start - 1, start) and _is_word_edge(text, end, end - 1)


def _is_word_edge(text: str, outside: int, inside: int) -> bool:
    if outside < 0 or outside >= len(text) or not is_word_char(text[outside]):
        return True
    return is_unspaced_script(text[outside]) or is_unspaced_script(text[inside])


# Scripts written without spaces between words (Chinese, Japanese, Thai, Lao,
# Khmer, Myanmar) or with particles glued to nouns (Korean): a phrase in them
# must match inside running text even when whole words are asked for.
_UNSPACED_SCRIPT = re.compile(
    "["
    "\u0e00-\u0eff"  # Thai, Lao
    "\u1000-\u109f"  # Myanmar
    "\u1100-\u11ff"  # Hangul Jamo
    "\u1780-\u17ff"  # Khmer
    "\u2e80-\u2fdf"  # CJK radicals, Kangxi radicals
    "\u3005-\u3007"  # ideographic iteration mark, closing mark, number zero
    "\u3021-\u3029"  # Hangzhou numerals
    "\u3031-\u3035"  # kana repeat marks
    "\u3038-\u303c"
    "\u3040-\u31ff"  # Hiragana, Katakana, Bopomofo, Hangul compatibility jamo, Kanbun
    "\u3200-\u33ff"  # enclosed CJK letters, CJK compatibility
    "\u3400-\u4dbf"  # CJK extension A
    "\u4e00-\u9fff"  # CJK unified ideographs
    "\ua000-\ua4cf"  # Yi
    "\ua960-\ua97f"  # Hangul Jamo extended A
    "\uac00-\ud7ff"  # Hangul syllables, Jamo extended B
    "\uf900-\ufaff"  # CJK compatibility ideographs
    "\uff65-\uffdc"  # halfwidth Katakana and Hangul
    "\U0001b000-\U0001b16f"  # Kana supplement and extended A
    "\U00020000-\U0003134f"  # CJK extensions B-G, compatibility supplement
    "]"
)


def is_unspaced_script(ch: str) -> bool:
    """True for characters of scripts that do not put spaces between words."""
    return _UNSPACED_SCRIPT.match(ch) is not None
