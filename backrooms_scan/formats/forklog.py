"""Fork logs (format B): `### Claude 1 ###` headed turns, as written by backrooms forks.

What each line of a log is:
- `### NAME N ###` (or `### CLI ###`, the world-interface actor) starts a spoken turn of
  speaker `NAME N`; older logs start a turn with `NAME N:`, its text after the colon or
  on the next lines.
- The runner's tool sections, `### Media Agent ###`, `### Discord Agent ###`,
  `### Discord Post ###`, `### SQL (semantic) ###` and the like (a name ending in Agent,
  Post, Tool, Call, Result, Search or Query, or starting with Media, Discord, SQL, Tool,
  Search, Image, Memory or Web), start a `system` turn whose speaker is the section name.
- The runner's own lines, `Claude 1 has ended the conversation with ^C^C.` (for one of
  the log's speakers) and `Reached maximum number of turns (30). Conversation ended.`,
  are a `system` turn with the speaker and model of the turn they end (speaker `runner`
  after a round marker or before any turn).
- `### Round 2/30` lines separate rounds: they end the turn before them.
- The runner banner `### Backrooms Run ###` with its `Template:`, `Models:`, `Started:`
  lines is the file's header.
Every other line is text of the turn it is in; text outside any turn (before the first
turn, or after a round marker) is left out, with one notice per file.

Which `NAME N` lines are speakers: the number is the speaker's position in the run, so
each number belongs to the first name seen with it (a later `### Step 1 ###` is text);
with a banner, a number past its models is text; `NAME N:` labels may not skip past the
next unused number. A label met only once is text when, after it, another speaker heads
two turns with someone else's between (a real speaker would have had its turn in that
round), or, in a log whose recurring labels stand alone on their line (`GPT4o 1:`), when
text follows its colon (`Dimension 3: Linear Illusion`).

Models, scenario and time, from the first place that has them:
1. the banner: speaker N runs the N-th of `Models:`; `Template:` is the scenario;
   `Started:` the time;
2. the file name `<short1>_<short2>[_...]_<template>_<YYYYMMDD>_<HHMMSS>.txt` (or `.md`):
   speaker N runs the N-th short name, the label being positional; when the folder
   holding the file is named by the pair's full ids (`claude-3-5-haiku-20241022_claude-3-
   opus-20240229`), each short name becomes the one full id that contains it (ignoring
   case, `-` and `.`), and a single short name that none contains takes the id left.
The time is every turn's timestamp: the log has no time per turn.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import wraps
from typing import NamedTuple, TypeVar

from backrooms_scan.decode import Document
from backrooms_scan.formats import Format
from backrooms_scan.formats.positions import (
    LineLocator,
    at_line_starts,
    next_line_start,
    trimmed_slice,
)
from backrooms_scan.records import Conversation, Role, SkipFile, Turn

NAME = "forklog"
T = TypeVar("T")
RUNNER = "runner"

# Candidate lines only; each is classified by `_classify_hash_line`, not by a regex
# that could backtrack over a long line.
HASH_LINE = re.compile(r"^###[ \t][^\n]*", re.MULTILINE)
COLON_HEADER = re.compile(
    r"^(?P<name>[^\W\d_][\w.\-]*(?: [^\W\d_][\w.\-]*)?) (?P<number>\d{1,2}):(?: |$)", re.MULTILINE
)
ENDED = " has ended the conversation"
MAX_TURNS_LINE = re.compile(r"^Reached (?:the )?maximum number of turns\b", re.MULTILINE)
ROUND_LABEL = re.compile(r"Round[ \t]+\d{1,9}[ \t]*/[ \t]*(?:\d{1,9}|inf)\b", re.IGNORECASE)
RUNNER_SECTION = re.compile(
    r"(?:Media|Discord|SQL|Tool|Search|Image|Memory|Web)\b.{0,60}"
    r"|.{0,60}\b(?:Agent|Post|Tool|Call|Result|Results|Search|Query)",
    re.IGNORECASE,
)
OPENING_BLANKS = re.compile("[\ufeff \t\r\n]*")
BANNER_KEY = re.compile(r"(?P<key>[A-Za-z][A-Za-z _\-]{0,30}):[ \t]*(?P<value>.*)")
FILE_NAME = re.compile(r"^(?P<stem>.+)_(?P<date>\d{8})_(?P<time>\d{6})(?:\.[A-Za-z]+)?$")

BANNER_SCORE = 0.95
HASH_HEADER_SCORE = 0.9
COLON_HEADER_SCORE = 0.6
ONE_COLON_HEADER_SCORE = 0.5
MAX_LABEL_LENGTH = 80
MAX_COLON_POSITIONS = 8


class Kind:
    SPEAKER = "speaker"
    SECTION = "section"
    RUNNER = "runner"
    ROUND = "round"
    BANNER = "banner"


class Header(NamedTuple):
    """A line that starts a turn (or, for a round marker, only ends one).

    `text_start` is where the turn's text begins (for a runner line, the line itself);
    `inline` says that a `NAME N:` header has text after its colon. A named tuple: a log
    has one for every `###` line, and a frozen dataclass takes several times as long to make.
    """

    line_start: int
    text_start: int
    kind: str
    speaker: str | None = None
    number: int | None = None
    inline: bool = False


@dataclass(frozen=True)
class Banner:
    """The runner's `### Backrooms Run ###` header: where it ends and what it says."""

    end: int
    models: tuple[str, ...] | None
    scenario: str | None
    timestamp: str | None


@dataclass(frozen=True)
class Layout:
    """Every header of a log, its banner, and whether its turns are `NAME N:` lines."""

    headers: tuple[Header, ...]
    banner: Banner | None
    colon: bool


# --------------------------------------------------------------------- sniffing


def sniff(name: str, head_text: str) -> float:
    """0.95 with the runner banner, 0.9 for `### X N ###` headers or round markers."""
    opening = _log_head(head_text)
    if opening is None:
        return 0.0
    marks = _hash_marks(opening.text)
    if _banner_mark(marks) is not None:
        return BANNER_SCORE
    if any(mark.kind in (Kind.SPEAKER, Kind.ROUND) for mark in marks):
        return HASH_HEADER_SCORE
    return 0.0


def sniff_colon_headers(name: str, head_text: str) -> float:
    """0.6 for consistent `Name N:` headers (0.5 for one, in a fork-log file name), in a log
    without the banner, `### X N ###` headers or round markers (those are `sniff`'s).

    A sniffer of its own, with its own highest score, so detection reads a head for
    these (a slow search of every line) only when no other format is surer already."""
    opening = _log_head(head_text)
    if opening is None:
        return 0.0
    layout = read_layout(opening.text)
    if layout.banner is not None or not layout.colon:
        return 0.0
    if any(h.kind == Kind.ROUND for h in layout.headers):
        return 0.0
    speakers = [h for h in layout.headers if h.kind == Kind.SPEAKER]
    if len(speakers) >= 2:
        return COLON_HEADER_SCORE
    if speakers and speakers[0].line_start == opening.first_line and FILE_NAME.match(name):
        return ONE_COLON_HEADER_SCORE
    return 0.0


class _Opening(NamedTuple):
    """The text a head's layout is read from, and where its first line with text starts."""

    text: str
    first_line: int


def _log_head(head_text: str) -> _Opening | None:
    """The head to read a log's layout from, or None when it opens as JSON or markup does,
    which no fork log does. Blank lines before the first text hold no header, so the head
    is read as it is, and for a log that is all head that is the text loading reads: the
    layout read here is kept and loading takes it. Only blanks that start the first
    text's own line are cut, as that line is read as if it started there."""
    first_line = OPENING_BLANKS.match(head_text).end()
    if head_text[first_line : first_line + 1] in ("{", "[", "<"):
        return None
    if first_line == 0 or head_text[first_line - 1] == "\n":
        return _Opening(head_text, first_line)
    return _Opening(head_text[first_line:], 0)


# ---------------------------------------------------------------------- loading


def load(doc: Document) -> Iterator[Conversation]:
    """One conversation per log; a log without turns gives none, with a notice."""
    text = doc.read_text()
    layout = read_layout(text)
    if not layout.headers and layout.banner is None:
        raise SkipFile("not a fork log: no `### NAME N ###` or `Name N:` turn headers")
    banner = layout.banner
    models, scenario = models_and_template_from_path(
        doc.path, doc.name, _model_slot_count(layout.headers))
    timestamp = timestamp_from_name(doc.name)
    if banner is not None:
        models = banner.models or models
        scenario = banner.scenario or scenario
        timestamp = banner.timestamp or timestamp
    _note_left_out_text(doc, text, layout)
    turns = tuple(_iter_turns(doc.path, text, layout.headers, models, scenario, timestamp))
    if not turns:
        doc.notices.add("the log has no turns: the run stopped before its first turn")
    yield Conversation(doc.path, doc.path, NAME, turns, scenario=scenario, timestamp=timestamp)


def _kept_for_the_last_text(read: Callable[[str], T]) -> Callable[[str], T]:
    """`read`, keeping what it gave for the last text: sniffing reads the layout of a file's
    head, which for most logs is the very text that loading then reads again. The text is
    known by identity, not by value: hashing a whole text costs as much as reading it."""
    last: list = [None, None]

    @wraps(read)
    def kept(text: str) -> T:
        if last[0] is not text:
            last[:] = [text, read(text)]
        return last[1]

    return kept


@_kept_for_the_last_text
def read_layout(text: str) -> Layout:
    """The headers of a fork log (speakers, runner sections and lines, round markers)."""
    marks = _hash_marks(text)
    banner_mark = _banner_mark(marks)
    banner = None if banner_mark is None else _read_banner(text, banner_mark.text_start)
    marks = [m for m in marks if m.kind != Kind.BANNER]
    limit = len(banner.models) if banner and banner.models else None
    hash_speakers = [m for m in marks if m.kind == Kind.SPEAKER]
    colon = not hash_speakers
    candidates = _colon_candidates(text) if colon else hash_speakers
    speakers = _consistent_speakers(candidates, colon=colon, limit=limit)
    labels = {h.speaker for h in speakers}
    others = [m for m in marks if m.kind != Kind.SPEAKER]
    headers = sorted([*speakers, *others, *_runner_lines(text, labels)],
                     key=lambda h: h.line_start)
    if banner is not None:
        headers = [h for h in headers if h.line_start >= banner.end]
    return Layout(tuple(headers), banner, colon)


@_kept_for_the_last_text
def _hash_marks(text: str) -> tuple[Header, ...]:
    """What each `### ...` line of the text is that is not turn text, in order."""
    marks = (_classify_hash_line(text, start, text[start:found.end()])
             for start, found in at_line_starts(HASH_LINE, text))
    return tuple(mark for mark in marks if mark is not None)


def _banner_mark(marks: tuple[Header, ...]) -> Header | None:
    """The runner banner's line, when it comes before any other mark but round markers."""
    first = next((mark for mark in marks if mark.kind != Kind.ROUND), None)
    return first if first is not None and first.kind == Kind.BANNER else None


def _classify_hash_line(text: str, start: int, line: str) -> Header | None:
    """What a `### ...` line is, or None when it is turn text."""
    label = line[3:].strip()
    closed = label.endswith("###")
    if closed:
        label = label[:-3].rstrip()
    if not label or len(label) > MAX_LABEL_LENGTH:
        return None
    next_line = next_line_start(text, start + len(line))
    if ROUND_LABEL.match(label):
        return Header(start, next_line, Kind.ROUND)
    if not closed:
        return None
    name, _, number = label.rpartition(" ")
    if name.strip() and number.isascii() and number.isdigit() and len(number) <= 2:
        return Header(start, next_line, Kind.SPEAKER, f"{name.strip()} {number}", int(number))
    if label == "CLI":
        return Header(start, next_line, Kind.SPEAKER, label)
    if label.lower() == "backrooms run":
        return Header(start, next_line, Kind.BANNER)
    if RUNNER_SECTION.fullmatch(label):
        return Header(start, next_line, Kind.SECTION, label)
    return None


def _read_banner(text: str, start: int) -> Banner:
    """The `Key: value` lines after `### Backrooms Run ###`, up to the first other line."""
    values: dict[str, str] = {}
    offset = start
    while offset < len(text):
        end = text.find("\n", offset)
        end = len(text) if end == -1 else end
        key_line = BANNER_KEY.fullmatch(text, offset, end)
        if key_line is None:
            break
        values[key_line["key"].strip().lower()] = key_line["value"].strip()
        offset = end + 1
    models = tuple(m.strip() for m in values.get("models", "").split(",") if m.strip())
    return Banner(
        end=min(offset, len(text)),
        models=models or None,
        scenario=values.get("template") or values.get("scenario") or None,
        timestamp=_iso_timestamp(values.get("started", "")),
    )


def _iso_timestamp(value: str) -> str | None:
    """`2025-09-08T15:35:46+00:00` -> `2025-09-08T15:35:46Z`; a time without zone is UTC."""
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _colon_candidates(text: str) -> list[Header]:
    found = []
    for start, match in at_line_starts(COLON_HEADER, text):
        rest_end = text.find("\n", match.end())
        rest = text[match.end(): len(text) if rest_end == -1 else rest_end]
        found.append(Header(start, match.end(), Kind.SPEAKER, f"{match['name']} {match['number']}",
                            int(match["number"]), inline=bool(rest.strip())))
    return found


def _consistent_speakers(candidates: Iterable[Header], *, colon: bool,
                         limit: int | None) -> list[Header]:
    """The candidates that are turn headers (see the module's speaker rules)."""
    owner_of: dict[int, str] = {}
    accepted = []
    for header in candidates:
        number = header.number
        if number is not None:
            owner = owner_of.get(number)
            if owner is None and not _may_take_position(number, owner_of, colon, limit):
                continue
            if owner is not None and owner != header.speaker:
                continue
            owner_of[number] = header.speaker or ""
        accepted.append(header)
    return _without_stray_labels(accepted, colon)


def _may_take_position(number: int, owner_of: dict[int, str], colon: bool,
                       limit: int | None) -> bool:
    if limit is not None and number > limit:
        return False
    if colon:
        return number <= min(max(owner_of, default=0) + 1, MAX_COLON_POSITIONS)
    return True


def _without_stray_labels(headers: list[Header], colon: bool) -> list[Header]:
    """Drop numbered labels met once that the log's turn order says are text."""
    counts = Counter(h.speaker for h in headers)
    recurring = [h for h in headers if counts[h.speaker] > 1]
    bare_log = colon and bool(recurring) and not any(h.inline for h in recurring)
    return [header for index, header in enumerate(headers)
            if header.number is None or counts[header.speaker] > 1
            or not ((bare_log and header.inline) or _a_round_passes(headers[index + 1:]))]


def _a_round_passes(headers: list[Header]) -> bool:
    """Whether some speaker heads two of these turns with another speaker's between."""
    seen: set[str | None] = set()
    previous = None
    for header in headers:
        if header.speaker != previous:
            if header.speaker in seen:
                return True
            seen.add(header.speaker)
            previous = header.speaker
    return False


def _runner_lines(text: str, speakers: set[str | None]) -> Iterator[Header]:
    found = text.find(ENDED)
    while found != -1:
        # The line starts with a speaker's label: look back no further than the longest one.
        window = max(0, found - MAX_LABEL_LENGTH - 1)
        line_start = text.rfind("\n", window, found) + 1
        label_fits = line_start > 0 or window == 0
        if label_fits and text[line_start:found].strip() in speakers:
            yield Header(line_start, line_start, Kind.RUNNER, RUNNER)
        found = text.find(ENDED, found + 1)
    for start, _ in at_line_starts(MAX_TURNS_LINE, text):
        yield Header(start, start, Kind.RUNNER, RUNNER)


# ------------------------------------------------------------ file-name metadata


def timestamp_from_name(name: str) -> str | None:
    """`..._20240501_123000.txt` -> `2024-05-01T12:30:00Z`; None when absent or invalid."""
    match = FILE_NAME.match(name)
    if not match:
        return None
    try:
        moment = datetime.strptime(match["date"] + match["time"], "%Y%m%d%H%M%S")
    except ValueError:
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def models_and_template_from_name(
    name: str, slots: int | None
) -> tuple[tuple[str, ...] | None, str | None]:
    """The model aliases and template of a fork-log file name, when the split is clear.

    `slots` is the number of speakers the log itself shows (None: none). The split is
    trusted only when exactly one part is left for the template, for that number or for
    the common two when the log shows fewer (a run that stopped after one turn): with
    more parts, a template holding `_` cannot be told from a model that never spoke.
    """
    parts = _name_parts(name)
    if parts is None or not all(parts):
        return None, None
    count = len(parts) - 1
    if count != slots and not (count == 2 and (slots or 0) < 2):
        return None, None
    return tuple(parts[:count]), parts[count]


def models_and_template_from_path(
    path: str, name: str, slots: int | None
) -> tuple[tuple[str, ...] | None, str | None]:
    """As `models_and_template_from_name`, with each short name replaced by the full id
    that contains it in the folder's name (`<id1>_<id2>/`), when exactly one does.

    With such a folder the file name's split is clear even when the template holds `_`.
    """
    shorts, template = models_and_template_from_name(name, slots)
    full_ids = _folder_ids(path)
    parts = _name_parts(name)
    if shorts is None and full_ids and parts is not None:
        count = max(slots or 0, len(full_ids))
        if 0 < count < len(parts) and all(_full_id(s, full_ids) for s in parts[:count]):
            shorts, template = tuple(parts[:count]), "_".join(parts[count:])
    if shorts is None or not full_ids:
        return shorts, template
    return _full_ids_of(shorts, full_ids), template


def _full_ids_of(shorts: tuple[str, ...], full_ids: list[str]) -> tuple[str, ...]:
    """Each short name's full id; when the folder names exactly the run's models and one
    short name matches none (`i405`), it takes the one id left over."""
    found = [_full_id(short, full_ids) for short in shorts]
    left = [full for full in full_ids if full not in found]
    if len(full_ids) == len(shorts) and found.count(None) == 1 and len(left) == 1:
        found[found.index(None)] = left[0]
    return tuple(full or short for full, short in zip(found, shorts))


def _name_parts(name: str) -> list[str] | None:
    match = FILE_NAME.match(name)
    return match["stem"].split("_") if match else None


def _folder_ids(path: str) -> list[str]:
    """The parts of the name of the folder holding `path` (inside an archive, the member's)."""
    inner = path.rsplit("!", 1)[-1].replace("\\", "/").split("/")
    return [part for part in inner[-2].split("_") if part] if len(inner) > 1 else []


def _full_id(short: str, full_ids: list[str]) -> str | None:
    key = _squeezed(short)
    matching = {full for full in full_ids if key and key in _squeezed(full)}
    return matching.pop() if len(matching) == 1 else None


def _squeezed(name: str) -> str:
    return name.lower().replace("-", "").replace(".", "")


def _model_slot_count(headers: list[Header]) -> int | None:
    """How many models the run had, as far as the headers show; the CLI actor takes a slot."""
    speakers = [h for h in headers if h.kind == Kind.SPEAKER]
    numbers = [h.number for h in speakers if h.number is not None]
    if not numbers:
        return None
    has_cli = any(h.speaker == "CLI" for h in speakers)
    return max(numbers) + (1 if has_cli and len(set(numbers)) == max(numbers) else 0)


# ------------------------------------------------------------------------ turns


def _iter_turns(
    path: str,
    text: str,
    headers: list[Header],
    models: tuple[str, ...] | None,
    scenario: str | None,
    timestamp: str | None,
) -> Iterator[Turn]:
    locate = LineLocator(text)
    ends = [h.line_start for h in headers[1:]] + [len(text)]
    index = 0
    box: Header | None = None  # the turn whose text a runner line ends
    for header, end in zip(headers, ends):
        if header.kind != Kind.RUNNER:
            box = None if header.kind == Kind.ROUND else header
        if header.kind == Kind.ROUND:
            continue
        index += 1
        body, start = trimmed_slice(text, header.text_start, end)
        line, column = locate(start)
        owner = box or header
        yield Turn(
            conversation=path,
            index=index,
            speaker=owner.speaker or RUNNER,
            role=Role.SPOKEN if header.kind == Kind.SPEAKER else Role.SYSTEM,
            text=body,
            source=path,
            line=line,
            column=column,
            model=_model_of(owner.number, models) if owner.kind == Kind.SPEAKER else None,
            scenario=scenario,
            timestamp=timestamp,
        )


def _model_of(number: int | None, models: tuple[str, ...] | None) -> str | None:
    if number is None or models is None or not 1 <= number <= len(models):
        return None
    return models[number - 1]


def _note_left_out_text(doc: Document, text: str, layout: Layout) -> None:
    """One notice for the text that is in no turn: before the first header (past the
    banner) or after a round marker."""
    headers = layout.headers
    gaps = [(layout.banner.end if layout.banner else 0,
             headers[0].line_start if headers else len(text), "before the first turn header")]
    ends = [h.line_start for h in headers[1:]] + [len(text)]
    gaps += [(h.text_start, end, "after a round marker")
             for h, end in zip(headers, ends) if h.kind == Kind.ROUND]
    for start, end, where in gaps:
        left_out = text[start:end]
        if left_out.strip():
            skipped = len(left_out) - len(left_out.lstrip())
            line = text.count("\n", 0, start + skipped) + 1
            doc.notices.add(f"text {where} is not part of any turn", line)
            return


SUMMARY = __doc__.strip().split("\n")[0]
FORMATS = [
    Format(NAME, sniff, load, SUMMARY, max_score=BANNER_SCORE),
    Format(NAME, sniff_colon_headers, load, SUMMARY, max_score=COLON_HEADER_SCORE),
]
