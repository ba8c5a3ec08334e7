"""One turn per line: `[21:04:55] Explorer$ text` or `Claude: text`, as in terminal logs.

A turn starts at a line `[time] Name$ text` or `Name: text` (Name: one to three words
starting with a letter, at most 40 characters) and runs over the following lines until
the next turn starts, so its text is a verbatim slice of the file.

Which lines start turns is decided per file, so that labels inside turn text are not
taken for speakers:
- when most turn lines carry a `[HH:MM:SS]` stamp, lines without one are text;
- when at least two speakers each start several turns, a name that starts only one
  line (`Note: ...`, `Step 1: ...`) is read as text of the turn before it; `System`
  and `Error` are exempt, since a log often opens with a single system line and the
  runner writes an `Error: ...` line when a call fails.

A speaker called `System` is prompt text and `Error: model not found` is the runner's
output: both are Role.SYSTEM turns (speaker `System`, `Error`), never spoken; everyone
else is Role.SPOKEN. In a log whose turn lines carry stamps, an unstamped `Error:` line
is text of the turn it is in (a simulated terminal prints such lines too).
`[HH:MM:SS]` is only a time of day: it becomes the turn timestamp when a date is known,
from the stamp itself (`[2024-05-01 21:04:55]`) or from the file name (YYYYMMDD or
YYYY-MM-DD); a time earlier than the previous one moves to the next day. ANSI colour
codes are removed before reading, so positions refer to the text without them.

A file is sniffed as a chat log only on real evidence: most of its lines open turns, the
speaker changes at least twice and some speaker comes back, and the lines are not the
`Key: value` fields of records (Debian `copyright` files look like chat otherwise) or of
a header (package metadata opens with a paragraph of one-off fields).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import pairwise

from backrooms_scan.decode import Document, strip_terminal_escapes
from backrooms_scan.formats.positions import LineLocator, trimmed_slice
from backrooms_scan.records import Conversation, Role, SkipFile, Turn

NAME = "chatlines"

TURN_LINE = re.compile(
    r"^(?P<stamp>\[(?:(?P<date>\d{4}-\d{2}-\d{2})[ T])?(?P<time>\d{1,2}:\d{2}(?::\d{2})?)\][ \t]*)?"
    r"(?P<name>[^\W\d_][\w.'\-]*(?: [\w.'\-]+){0,2})[:$](?: +|$)",
    re.MULTILINE,
)
DATE_IN_NAME = re.compile(r"(?<!\d)(\d{4})-?(\d{2})-?(\d{2})(?!\d)")

MAX_NAME_LENGTH = 40
SNIFF_LINES = 400
TURN_LINE_SHARE = 0.6
SNIFF_SCORE = MAX_SCORE = 0.4
MIN_SPEAKER_CHANGES = 2
HEADER_FIELDS = 5
# Lines by these names are prompt text or the runner's own output, not speech.
SYSTEM_SPEAKERS = frozenset({"system", "error"})


@dataclass(frozen=True)
class TurnStart:
    """A line that opens a turn: where it is, who speaks, when, and where the text begins.

    `time` is the stamp's time of day as HH:MM:SS and `day` the stamp's own date, if any.
    """

    line_start: int
    text_start: int
    speaker: str
    time: str | None
    day: str | None


def sniff(name: str, head_text: str) -> float:
    """0.4 when most of at least 3 lines open turns that alternate between 2+ speakers,
    and the lines are not `Key: value` records."""
    lines = strip_terminal_escapes(head_text).split("\n")[:SNIFF_LINES]
    non_blank = sum(1 for line in lines if line.strip())
    if non_blank < 3:
        return 0.0
    starts = _accepted_starts(_candidate_starts("\n".join(lines)))
    if (
        len(starts) >= TURN_LINE_SHARE * non_blank
        and _alternates(starts)
        and not reads_as_records(lines)
        and not opens_with_a_field_header(lines)
    ):
        return SNIFF_SCORE
    return 0.0


def _alternates(starts: list[TurnStart]) -> bool:
    """Several turns, the speaker changing at least twice, some speaker coming back."""
    speakers = [start.speaker for start in starts if not _is_system(start.speaker)]
    changes = sum(1 for before, after in pairwise(speakers) if before != after)
    return changes >= MIN_SPEAKER_CHANGES and len(set(speakers)) < len(speakers)


def reads_as_records(lines: list[str]) -> bool:
    """Whether `Name: text` lines are fields of records (deb822, as in Debian `copyright`
    and `control` files, or mail headers) rather than turns of a conversation.

    Records come in paragraphs separated by blank lines; every line is a field or an
    indented continuation of one, and no field appears twice in a paragraph. A
    conversation that keeps to those rules (one-line turns in rounds separated by blank
    lines) names the same speakers in the same order in every round, or the first ones of
    them; records do not (a header paragraph, then file paragraphs, then license ones).
    """
    paragraphs: list[tuple[str, ...]] = []
    names: list[str] = []
    for line in [*lines, ""]:
        if not line.strip():
            if names:
                paragraphs.append(tuple(names))
            names = []
        elif line[0] in " \t":
            continue
        elif (match := _turn_line(line)) is None or match["stamp"]:
            return False
        else:
            names.append(match["name"])
    if sum(1 for names in paragraphs if len(names) >= 2) < 2:
        return False
    if any(len(set(names)) < len(names) for names in paragraphs):
        return False
    round_ = max(paragraphs, key=len)
    return any(names != round_[: len(names)] for names in paragraphs)


def opens_with_a_field_header(lines: list[str]) -> bool:
    """Whether the text opens with a header of `Key: value` fields (package metadata, a
    mail header): a first paragraph of fields and indented continuations only, naming at
    least HEADER_FIELDS names that open no other line, as a conversation's speakers do."""
    first: list[str] = []
    for line in lines:
        if not line.strip():
            if first:
                break
        elif line[0] not in " \t":
            match = _turn_line(line)
            if match is None or match["stamp"]:
                return False
            first.append(match["name"])
    opened = Counter(m["name"] for m in map(_turn_line, lines) if m)
    return sum(1 for name in set(first) if opened[name] == 1) >= HEADER_FIELDS


def load(doc: Document) -> Iterator[Conversation]:
    """One conversation per file, one turn per chat line plus its continuation lines."""
    text = doc.read_text()  # terminal escapes are already gone
    starts = _accepted_starts(_candidate_starts(text))
    if not starts:
        raise SkipFile("not a chat log: no `Name: text` or `[time] Name$ text` lines")
    if text[: starts[0].line_start].strip():
        doc.notices.add("text before the first chat line is not part of any turn", 1)
    timestamps = _timestamps(starts, date_from_name(doc.name))
    turns = tuple(_iter_turns(doc.path, text, starts, timestamps))
    first_known = next((t for t in timestamps if t is not None), None)
    yield Conversation(doc.path, doc.path, NAME, turns, timestamp=first_known)


def date_from_name(name: str) -> date | None:
    """The first valid YYYYMMDD or YYYY-MM-DD date in a file name."""
    for match in DATE_IN_NAME.finditer(name):
        try:
            return date(*map(int, match.groups()))
        except ValueError:
            continue
    return None


def _turn_line(line: str) -> re.Match[str] | None:
    match = TURN_LINE.match(line)
    if match and len(match["name"]) <= MAX_NAME_LENGTH:
        return match
    return None


def _candidate_starts(text: str) -> list[TurnStart]:
    return [
        TurnStart(m.start(), m.end(), m["name"], _clock(m["time"]), _valid_day(m["date"]))
        for m in TURN_LINE.finditer(text)
        if len(m["name"]) <= MAX_NAME_LENGTH
    ]


def _accepted_starts(candidates: list[TurnStart]) -> list[TurnStart]:
    stamped = [c for c in candidates if c.time is not None]
    if 2 * len(stamped) >= len(candidates) > 0:
        candidates = stamped
    turns_by = Counter(c.speaker for c in candidates)
    recurring = {speaker for speaker, count in turns_by.items() if count >= 2}
    if len(recurring) >= 2:
        candidates = [c for c in candidates if c.speaker in recurring or _is_system(c.speaker)]
    return candidates


def _is_system(speaker: str) -> bool:
    return speaker.casefold() in SYSTEM_SPEAKERS


def _timestamps(starts: list[TurnStart], file_day: date | None) -> list[str | None]:
    """ISO timestamps for the turns whose date is known, rolling over past midnight."""
    timestamps: list[str | None] = []
    day, previous = file_day, ""
    for start in starts:
        if start.time is None:
            timestamps.append(None)
            continue
        clock = start.time
        if start.day is not None:
            timestamps.append(f"{start.day}T{clock}")
            continue
        if day is not None and clock < previous:
            day += timedelta(days=1)
        previous = clock
        timestamps.append(None if day is None else f"{day.isoformat()}T{clock}")
    return timestamps


def _clock(time_of_day: str | None) -> str | None:
    """`9:05` -> `09:05:00`; None when absent or not a time of day."""
    if time_of_day is None:
        return None
    hours, minutes, seconds = (*map(int, time_of_day.split(":")), 0)[:3]
    if hours > 23 or minutes > 59 or seconds > 59:
        return None
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}"


def _valid_day(day: str | None) -> str | None:
    try:
        return None if day is None else date.fromisoformat(day).isoformat()
    except ValueError:
        return None


def _iter_turns(
    path: str, text: str, starts: list[TurnStart], timestamps: list[str | None]
) -> Iterator[Turn]:
    locate = LineLocator(text)
    ends = [s.line_start for s in starts[1:]] + [len(text)]
    for index, (start, end, timestamp) in enumerate(zip(starts, ends, timestamps), 1):
        body, offset = trimmed_slice(text, start.text_start, end)
        line, column = locate(offset)
        role = Role.SYSTEM if _is_system(start.speaker) else Role.SPOKEN
        yield Turn(
            conversation=path,
            index=index,
            speaker=start.speaker,
            role=role,
            text=body,
            source=path,
            line=line,
            column=column,
            timestamp=timestamp,
        )


