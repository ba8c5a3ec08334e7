"""The records that flow through a scan: turns, conversations, hits."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Role(str, Enum):
    """Whether a turn was said by a model or is prompt text fed to it."""

    SPOKEN = "spoken"
    SYSTEM = "system"
    CONTEXT = "context"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class Turn:
    """One message of a conversation, with where it came from.

    `line` and `column` (1-based, column counted in characters) locate the
    first character of `text` in the source. When `verbatim` is true, `text`
    is a contiguous slice of the decoded source, so a position inside it can
    be mapped back exactly; otherwise (JSON strings, HTML) only the turn's own
    start is known. `speaker_inferred` is true when the source does not name the
    speaker of this turn and the reader inferred it (e.g. from the alternation).
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
