"""The records that flow through a scan: turns, conversations, hits."""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import NamedTuple

from backrooms_scan.sequences import MadeOnRead


class Role(str, Enum):
    """Whether a turn was said by a model or is prompt text fed to it."""

    SPOKEN = "spoken"
    SYSTEM = "system"
    CONTEXT = "context"

    def __str__(self) -> str:
        return self.value


class Turn(NamedTuple):
    """One message of a conversation, with where it came from.

    `line` and `column` (1-based, column counted in characters) locate the
    first character of `text` in the source. When `verbatim` is true, `text`
    is a contiguous slice of the decoded source, so a position inside it can
    be mapped back exactly; otherwise (JSON strings, HTML) only the turn's own
    start is known. `speaker_inferred` is true when the source does not name the
    speaker of this turn and the reader inferred it (e.g. from the alternation).

    A named tuple, not a dataclass: a scan makes one for every turn it reads, and a
    frozen dataclass takes about four times as long to make.
    """

    conversation: str
    index: int
    speaker: str
    role: Role
    text: str
    source: str
    line: int
    column: int = 1
    model: str | None = None
    scenario: str | None = None
    timestamp: str | None = None
    verbatim: bool = True
    speaker_inferred: bool = False

    def position_of(self, offset: int) -> tuple[int, int]:
        """The (line, column) in the source of character `offset` of `text`."""
        if not self.verbatim:
            return self.line, self.column
        newlines = self.text.count("\n", 0, offset)
        if newlines == 0:
            return self.line, self.column + offset
        line_start = self.text.rfind("\n", 0, offset) + 1
        return self.line + newlines, offset - line_start + 1


@dataclass(frozen=True, slots=True)
class Conversation:
    """A conversation read from one source file, with its turns in order.

    `id` is the source path for one-conversation files and `path#n` (n from 1)
    when a file holds several.
    """

    id: str
    source: str
    format: str
    turns: tuple[Turn, ...] = ()
    scenario: str | None = None
    timestamp: str | None = None


@dataclass(frozen=True, slots=True)
class Hit:
    """One occurrence of a pattern in a turn: `[start, end)` in `turn.text`."""

    set: str
    pattern: str
    turn: Turn
    start: int
    end: int

    @property
    def text(self) -> str:
        return self.turn.text[self.start : self.end]

    @property
    def position(self) -> tuple[int, int]:
        return self.turn.position_of(self.start)


class HitList(MadeOnRead[Hit]):
    """The hits of one turn, held compactly: a turn reciting a mantra a million times
    keeps a (set, pattern) number, a start and an end per hit in one array, 12 bytes,
    not a Hit object; Hits are made as they are read. Equal to a list of the same Hits.

    `spans` holds `number, start, end` for each hit in turn, `keys` the (set, pattern)
    of each number, each the key of some hit."""

    __slots__ = ("_keys", "_spans", "turn")

    def __init__(self, turn: Turn, keys: Sequence[tuple[str, str]], spans: array):
        self.turn = turn
        self._keys = tuple(keys)
        self._spans = spans

    @classmethod
    def of(cls, turn: Turn, hits: Iterable[Hit]) -> HitList:
        """The given hits of `turn`, in the order given."""
        if isinstance(hits, HitList):
            return hits
        numbers: dict[tuple[str, str], int] = {}
        spans = array("q")
        for hit in hits:
            spans.extend((numbers.setdefault((hit.set, hit.pattern), len(numbers)),
                          hit.start, hit.end))
        return cls(turn, list(numbers), spans)

    def __len__(self) -> int:
        return len(self._spans) // 3

    def _item(self, index: int):
        number, start, end = self._spans[3 * index : 3 * index + 3]
        set_name, pattern = self._keys[number]
        return Hit(set_name, pattern, self.turn, start, end)

    def __iter__(self) -> Iterator[Hit]:
        turn, keys = self.turn, self._keys
        for set_name, pattern, start, end in self._named_spans(keys):
            yield Hit(set_name, pattern, turn, start, end)

    def _named_spans(self, keys) -> Iterator[tuple[str, str, int, int]]:
        spans = iter(self._spans)
        for number, start, end in zip(spans, spans, spans):
            yield (*keys[number], start, end)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, (str, bytes)):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"HitList({list(self)!r})"

    def pattern_counts(self) -> Counter:
        """Hits per (set, pattern)."""
        counts = Counter(self._spans[::3])
        return Counter({self._keys[number]: n for number, n in counts.items()})

    def set_names(self) -> list[str]:
        """The sets with hits here, each once, in the order of the keys (a HitList
        holds the keys of its hits only)."""
        return list(dict.fromkeys(key[0] for key in self._keys))

    def spans(self) -> Iterator[tuple[str, int, int]]:
        """(set, start, end) of each hit, in order, without making Hits."""
        for set_name, _, start, end in self._named_spans(self._keys):
            yield set_name, start, end


class HitRecords(MadeOnRead):
    """Records of the hits of several turns, made as they are read: (turn's hits,
    extra fields) pairs, each record being `make(hit, *extra)`."""

    __slots__ = ("_firsts", "_make", "_parts")

    def __init__(self, parts: Sequence[tuple[Sequence[Hit], tuple]], make):
        self._parts = [part for part in parts if len(part[0])]
        self._make = make
        self._firsts = [0]
        for hits, _ in self._parts:
            self._firsts.append(self._firsts[-1] + len(hits))

    def __len__(self) -> int:
        return self._firsts[-1]

    def _item(self, index: int):
        part = bisect_right(self._firsts, index) - 1
        hits, extra = self._parts[part]
        return self._make(hits[index - self._firsts[part]], *extra)

    def __iter__(self) -> Iterator:
        make = self._make
        for hits, extra in self._parts:
            for hit in hits:
                yield make(hit, *extra)


@dataclass(slots=True)
class Notice:
    """A problem met while reading a file that did not stop the scan."""

    path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        return f"{where}: {self.message}"


class SkipFile(Exception):
    """Raised by a loader when a whole file is not scanned; the message is the reason."""

    def __init__(self, reason: str, line: int | None = None):
        super().__init__(reason)
        self.reason = reason
        self.line = line


@dataclass(slots=True)
class Notices:
    """Collects the notices of one file while it is read."""

    path: str
    items: list[Notice] = field(default_factory=list)

    def add(self, message: str, line: int | None = None) -> None:
        self.items.append(Notice(self.path, message, line))
