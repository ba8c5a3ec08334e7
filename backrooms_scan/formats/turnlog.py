"""`Turn N: Name (time)` transcripts: a banner of `Model:`/`Agents:` lines, then turns.

```
Model: claude-opus-4-0
Agents: Alice, Bob
══════════════════════════════
Turn 1: Alice  (04:57:03)
I keep drawing spirals in the shared notes.
Turn 2: Bob  (04:57:41)
[Timeout after 300s]
```

The lines before the first turn that are `Key: value` lines, rules (`═══`, `---`) or
blank are the file's header: `Agents:` names the speakers, `Model:` the model of all of
them or `Models:` one per agent in order, `Date:`/`Started:` the day. Other text there
is in no turn, with a notice.

A turn starts at a line `Turn N: NAME`, optionally followed by a time of day in
parentheses, and runs to the next. When the banner names agents only their names head
turns (otherwise names that head two turns or more, or all when none does), and N must
grow from turn to turn, so a `Turn 2: Bob` quoted inside a later turn is text.

A line that is only `[Timeout after 300s]` (or `[Timed out]`, `[Error: ...]`) is the
runner's: a `system` turn, up to the next turn, with the speaker and model of the turn
it sits in.

Timestamps: the time of day on the date of the banner or of the file name (`YYYYMMDD`,
`YYYY-MM-DD`), in the log's own (unstated) time zone, a time earlier than the one before
moving to the next day; without a date, turns have no timestamp.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import pairwise

from backrooms_scan.decode import Document
from backrooms_scan.formats.positions import (
    LineLocator,
    at_line_starts,
    line_of_first_text,
    next_line_start,
    trimmed_slice,
)
from backrooms_scan.records import Conversation, Role, SkipFile, Turn

NAME = "turnlog"
RUNNER = "runner"

TURN_HEADER = re.compile(r"^Turn[ \t]+(?P<number>\d{1,6})[ \t]*:(?P<rest>[^\n]*)", re.MULTILINE)
RUNNER_LINE = re.compile(
    r"^\[(?:Timeout|Timed out|Error)\b[^\]\n]{0,200}\][ \t]*$", re.MULTILINE | re.IGNORECASE
)
TIME_OF_DAY = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")
BANNER_KEY = re.compile(r"(?P<key>[A-Za-z][A-Za-z _\-]{0,30}):[ \t]*(?P<value>.*)")
DATE = re.compile(r"(?<!\d)(\d{4})-?(\d{2})-?(\d{2})(?!\d)")
RULE_CHARACTERS = frozenset("═=─━-_*~#")

MAX_NAME_LENGTH = 60
MAX_NAME_WORDS = 4
BANNER_SCORE = MAX_SCORE = 0.85
HEADERS_ONLY_SCORE = 0.7


@dataclass(frozen=True)
class Header:
    """A line that starts a turn: a `Turn N:` line, or a runner line (`speaker` None)."""

    line_start: int
    text_start: int
    speaker: str | None
    number: int = 0
    time: str | None = None


@dataclass(frozen=True)
class Banner:
    end: int  # where the text before the first turn stops being header lines
    agents: tuple[str, ...]
    models: dict[str, str]
    model: str | None
    day: date | None


# --------------------------------------------------------------------- sniffing


def sniff(name: str, head_text: str) -> float:
    """0.85 for two turns or more of two speakers under an `Agents:`/`Model:` banner,
    0.7 for three or more alternating turns of two speakers without one."""
    headers = _candidates(head_text)
    if not headers:
        return 0.0
    banner = _read_banner(head_text, headers[0].line_start)
    turns = _turn_headers(headers, banner.agents)
    speakers = [h.speaker for h in turns]
    if len(set(speakers)) < 2:
        return 0.0
    if banner.agents or banner.model or banner.models:
        return BANNER_SCORE
    changes = sum(a != b for a, b in pairwise(speakers))
    return HEADERS_ONLY_SCORE if len(turns) >= 3 and 2 * changes >= len(turns) - 1 else 0.0


# ---------------------------------------------------------------------- loading


def load(doc: Document) -> Iterator[Conversation]:
    """One conversation per file."""
    text = doc.read_text()
    candidates = _candidates(text)
    if not candidates:
        raise SkipFile("not a turn log: no `Turn N: Name` lines")
    banner = _read_banner(text, candidates[0].line_start)
    turns = _turn_headers(candidates, banner.agents)
    if not turns:
        raise SkipFile("not a turn log: no `Turn N:` line names one of its agents")
    if text[banner.end: turns[0].line_start].strip():
        doc.notices.add("text before the first turn is not part of any turn",
                        line_of_first_text(text, banner.end))
    headers = sorted([*turns, *_runner_lines(text, turns[0].line_start)],
                     key=lambda h: h.line_start)
    day = banner.day or _date_in(doc.name)
    found = tuple(_iter_turns(doc.path, text, headers, banner, day))
    first = next((t.timestamp for t in found if t.timestamp), None)
    yield Conversation(doc.path, doc.path, NAME, found, timestamp=first)


def _candidates(text: str) -> list[Header]:
    found = []
    for start, match in at_line_starts(TURN_HEADER, text):
        speaker, time = _name_and_time(match["rest"])
        if speaker:
            found.append(Header(start, next_line_start(text, match.end()), speaker,
                                int(match["number"]), time))
    return found


def _name_and_time(rest: str) -> tuple[str | None, str | None]:
    """`Alice  (04:57:03)` -> ("Alice", "04:57:03"); a name that is not short is None."""
    rest = rest.strip()
    time = None
    if rest.endswith(")") and "(" in rest:
        opening = rest.rfind("(")
        stamp = TIME_OF_DAY.fullmatch(rest[opening + 1:-1].strip())
        if stamp and int(stamp[1]) < 24 and int(stamp[2]) < 60 and int(stamp[3] or 0) < 60:
            time = f"{int(stamp[1]):02d}:{stamp[2]}:{stamp[3] or '00'}"
            rest = rest[:opening].strip()
    if not rest or len(rest) > MAX_NAME_LENGTH or len(rest.split()) > MAX_NAME_WORDS:
        return None, None
    return rest, time


def _turn_headers(candidates: list[Header], agents: tuple[str, ...]) -> list[Header]:
    """The candidates that head turns: agents' (or recurring) names, numbers growing."""
    if agents:
        names = set(agents)
    else:
        counts = Counter(h.speaker for h in candidates)
        names = {n for n, c in counts.items() if c > 1} or set(counts)
    accepted: list[Header] = []
    for header in candidates:
        if header.speaker in names and (not accepted or header.number > accepted[-1].number):
            accepted.append(header)
    return accepted


def _read_banner(text: str, end: int) -> Banner:
    """The header lines before offset `end` (the first `Turn N:` line)."""
    values: dict[str, str] = {}
    offset = 0
    while offset < end:
        line_end = min(next_line_start(text, offset), end)
        line = text[offset:line_end].strip()
        key_line = BANNER_KEY.fullmatch(line)
        if key_line:
            values.setdefault(key_line["key"].strip().lower(), key_line["value"].strip())
        elif line and not (len(line) >= 3 and set(line) <= RULE_CHARACTERS):
            break
        offset = line_end
    agents = _listed(values.get("agents", ""))
    models = _listed(values.get("models", ""))
    return Banner(
        end=offset,
        agents=agents,
        models=dict(zip(agents, models)) if agents and len(models) == len(agents) else {},
        model=values.get("model") or None,
        day=_date_in(values.get("date") or values.get("started") or values.get("start") or ""),
    )


def _listed(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


def _date_in(value: str) -> date | None:
    found = DATE.search(value)
    if not found:
        return None
    try:
        return date(*map(int, found.groups()))
    except ValueError:
        return None


def _runner_lines(text: str, start: int) -> Iterator[Header]:
    for line_start, _ in at_line_starts(RUNNER_LINE, text):
        if line_start >= start:
            yield Header(line_start, line_start, None)


def _iter_turns(path: str, text: str, headers: list[Header], banner: Banner,
                day: date | None) -> Iterator[Turn]:
    locate = LineLocator(text)
    ends = [h.line_start for h in headers[1:]] + [len(text)]
    timestamp, last_time = None, None
    speaker = RUNNER  # a runner line is in the box of the turn before it
    for index, (header, end) in enumerate(zip(headers, ends), 1):
        speaker = header.speaker or speaker
        if header.speaker is not None and header.time is not None and day is not None:
            if last_time is not None and header.time < last_time:
                day += timedelta(days=1)
            last_time = header.time
            timestamp = f"{day.isoformat()}T{header.time}"
        body, start = trimmed_slice(text, header.text_start, end)
        line, column = locate(start)
        spoken = header.speaker is not None
        yield Turn(
            conversation=path,
            index=index,
            speaker=speaker,
            role=Role.SPOKEN if spoken else Role.SYSTEM,
            text=body,
            source=path,
            line=line,
            column=column,
            model=banner.models.get(speaker) or banner.model,
            timestamp=timestamp,
        )


