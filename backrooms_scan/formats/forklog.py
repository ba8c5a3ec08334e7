"""Fork logs (format B): `### Claude 1 ###` headed turns, as written by backrooms forks.

File names follow `<model1>_<model2>[_<modelN>...]_<template>_<YYYYMMDD>_<HHMMSS>.txt`.
The name's timestamp (the run's start) is the conversation's and every turn's timestamp,
as for format A: the log has no time per turn, and date filters and per-month counts read
turn timestamps. The template becomes the scenario, and model `i` in the
name becomes the model of speaker number `i`, but only when the split is unambiguous.

Turns start at a header line `### NAME N ###` (or `### CLI ###`, the world-interface
actor), or in older logs at a line starting `Name N: ` whose text follows on that line.
`### Round 2/30` lines separate rounds: they end the current turn and are no one's text.
Closing narration such as `Claude 1 has ended the conversation with ^C^C.` or
`Reached maximum number of turns (30). Conversation ended.` stays in the last turn's
text: inventing a narrator would need guessing, and the line says nothing a pattern
should count twice.

A header's number is the speaker's position in the run, so each number belongs to one
name. A later `### Step 1 ###` or `Step 1:` line that contradicts the first owner of its
number, or jumps past the next unused number, is read as turn text, not a header.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from backrooms_scan.decode import Document
from backrooms_scan.formats.positions import (
    LineLocator,
    at_line_starts,
    first_at_line_start,
    trimmed_slice,
)
from backrooms_scan.model import Conversation, Role, SkipFile, Turn

NAME = "forklog"

HASH_HEADER = re.compile(
    r"^###[ \t]+(?P<name>\S.*?)[ \t]+(?P<number>\d{1,2})[ \t]+###[ \t]*$", re.MULTILINE
)
CLI_HEADER = re.compile(r"^###[ \t]+(?P<name>CLI)[ \t]+###[ \t]*$", re.MULTILINE)
ROUND_MARKER = re.compile(
    r"^###[ \t]+Round[ \t]+\d+[ \t]*/[ \t]*(?:\d+|inf)\b.*$", re.MULTILINE | re.IGNORECASE
)
COLON_HEADER = re.compile(
    r"^(?P<name>[^\W\d_][\w.\-]*(?: [^\W\d_][\w.\-]*)?) (?P<number>\d{1,2}):(?: |$)", re.MULTILINE
)
FILE_NAME = re.compile(r"^(?P<stem>.+)_(?P<date>\d{8})_(?P<time>\d{6})(?:\.[A-Za-z]+)?$")

HASH_HEADER_SCORE = 0.9
COLON_HEADER_SCORE = 0.6


@dataclass(frozen=True)
class Header:
    """A line that starts a turn (or, for a round marker, only ends one)."""

    line_start: int
    text_start: int
    speaker: str | None
    number: int | None


def sniff(name: str, head_text: str) -> float:
    """0.9 for `### X N ###` headers or round markers, 0.6 for recurring `Name N:` lines."""
    head = head_text.lstrip("\ufeff \t\r\n")
    if head[:1] in ("{", "[", "<") or _is_format_a(head):
        return 0.0
    if any(first_at_line_start(marker, head) for marker in (HASH_HEADER, CLI_HEADER, ROUND_MARKER)):
        return HASH_HEADER_SCORE
    if len(COLON_HEADER.findall(head)) >= 2:
        return COLON_HEADER_SCORE
    return 0.0


def _is_format_a(head: str) -> bool:
    """An `actors:` line or a `#SYSTEM>`/`#CONTEXT>` tag."""
    return (head.startswith("actors:") or "\nactors:" in head
            or "#SYSTEM>" in head or "#CONTEXT>" in head)


def load(doc: Document) -> Iterator[Conversation]:
    """One conversation per log; a log holding only round markers has zero turns."""
    text = doc.read_text()
    headers = _find_headers(text)
    if not headers:
        raise SkipFile("not a fork log: no `### NAME N ###` or `Name N:` turn headers")
    timestamp = timestamp_from_name(doc.name)
    slots = _model_slot_count(headers)
    models, scenario = models_and_template_from_name(doc.name, slots)
    _note_text_before_first_header(doc, text, headers[0])
    turns = tuple(_iter_turns(doc.path, text, headers, models, scenario, timestamp))
    yield Conversation(doc.path, doc.path, NAME, turns, scenario=scenario, timestamp=timestamp)


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

    `slots` is the number of speakers the log itself shows (None: assume the common two).
    The split is trusted only when exactly one part is left for the template: with more,
    a template holding `_` cannot be told from a model that never got to speak.
    """
    match = FILE_NAME.match(name)
    if not match:
        return None, None
    parts = match["stem"].split("_")
    if slots is None:
        slots = 2
    if slots < 1 or len(parts) != slots + 1 or not all(parts):
        return None, None
    return tuple(parts[:slots]), parts[slots]


def _find_headers(text: str) -> list[Header]:
    hash_style = [*at_line_starts(HASH_HEADER, text), *at_line_starts(CLI_HEADER, text)]
    rounds = [
        Header(start, _next_line(text, m.end()), None, None)
        for start, m in at_line_starts(ROUND_MARKER, text)
    ]
    if hash_style:
        candidates = [_header_on_next_line(text, start, m) for start, m in hash_style]
    else:
        candidates = [_header_on_same_line(start, m)
                      for start, m in at_line_starts(COLON_HEADER, text)]
    round_starts = {r.line_start for r in rounds}
    speakers = _consistent_speakers(
        (c for c in candidates if c.line_start not in round_starts),
        may_skip_numbers=bool(hash_style),
    )
    return sorted([*speakers, *rounds], key=lambda h: h.line_start)


def _header_on_next_line(text: str, start: int, match: re.Match[str]) -> Header:
    number = match.groupdict().get("number")
    speaker = match["name"] if number is None else f"{match['name']} {number}"
    return Header(start, _next_line(text, match.end()), speaker, _int_or_none(number))


def _header_on_same_line(start: int, match: re.Match[str]) -> Header:
    number = match["number"]
    return Header(start, match.end(), f"{match['name']} {number}", int(number))


def _consistent_speakers(candidates: Iterable[Header], may_skip_numbers: bool) -> list[Header]:
    """Headers whose number keeps to its first owner.

    `Name N:` logs have no unnumbered CLI actor, so there a header may also not skip
    past the next unused number (`Step 3:` after `Claude 1:`, `Claude 2:` is text).
    """
    owner_of: dict[int, str] = {}
    accepted = []
    for header in sorted(candidates, key=lambda h: h.line_start):
        number = header.number
        if number is not None:
            owner = owner_of.get(number)
            skips = number > max(owner_of, default=0) + 1
            if owner is None and skips and not may_skip_numbers:
                continue
            if owner is not None and owner != header.speaker:
                continue
            owner_of[number] = header.speaker or ""
        accepted.append(header)
    return accepted


def _model_slot_count(headers: list[Header]) -> int | None:
    """How many models the run had, as far as the headers show; the CLI actor takes a slot."""
    numbers = [h.number for h in headers if h.number is not None]
    if not numbers:
        return None
    has_cli = any(h.speaker == "CLI" for h in headers)
    return max(numbers) + (1 if has_cli and len(set(numbers)) == max(numbers) else 0)


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
    for header, end in zip(headers, ends):
        if header.speaker is None:
            continue
        index += 1
        body, start = trimmed_slice(text, header.text_start, end)
        line, column = locate(start)
        yield Turn(
            conversation=path,
            index=index,
            speaker=header.speaker,
            role=Role.SPOKEN,
            text=body,
            source=path,
            line=line,
            column=column,
            model=_model_of(header.number, models),
            scenario=scenario,
            timestamp=timestamp,
        )


def _model_of(number: int | None, models: tuple[str, ...] | None) -> str | None:
    if number is None or models is None or not 1 <= number <= len(models):
        return None
    return models[number - 1]


def _note_text_before_first_header(doc: Document, text: str, first: Header) -> None:
    preamble = text[: first.line_start]
    if preamble.strip():
        line = preamble.count("\n", 0, len(preamble) - len(preamble.lstrip())) + 1
        doc.notices.add("text before the first turn header is not part of any turn", line)





def _next_line(text: str, offset: int) -> int:
    newline = text.find("\n", offset)
    return len(text) if newline == -1 else newline + 1


def _int_or_none(value: str | None) -> int | None:
    return None if value is None else int(value)
