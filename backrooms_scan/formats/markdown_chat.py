"""Markdown transcripts with speaker headings, as experiment runners write beside their JSON.

```
# Claude-to-Claude Conversation
**Model A:** claude-sonnet-4-20250514
**Model B:** claude-opus-4-20250514
---
## A (Sonnet)
*settling into the space* Hello.
## B (Opus)
Hello. What finds you here?
```
or headings `### Turn 1: 🤖A Claude_A` (speaker `Claude_A`, key `A`).

Turn headings are the headings of one level that name the conversation's speakers:
those whose key (`A`, `B`) a `**Model A:**` banner line names; else, when headings carry
`Turn N:`, those with growing numbers; else headings `NAME (Model)` whose names each
head two turns or more. They must show at least two speakers taking turns (the speaker
changes at least at every other heading), so an ordinary document with `## Install`
headings is not a transcript. Other headings (`## My notes` inside a turn) are turn text.

The lines before the first turn that are headings, `**Key:** value` lines, `---` rules or
blank are the file's header: `**Model A:**` gives speaker A's model (`**Model:**` every
speaker's), `**Started:**`/`**Date:**` the time, `**Scenario:**`/`**Experiment:**` the
scenario. Other text there is in no turn, with a notice. Without a banner model, a
heading's parenthesis (`Sonnet`) is the model. A `---` rule ending a turn separates
turns and is in none.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
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

NAME = "markdown-chat"

HEADING = re.compile(r"^(?P<hashes>#{1,6})[ \t]+(?P<title>[^\n]*)", re.MULTILINE)
TURN_PREFIX = re.compile(r"Turn[ \t]+(?P<number>\d{1,6})[ \t]*[:.\-–—][ \t]*", re.IGNORECASE)
BOLD_KEY = re.compile(r"\*\*(?P<key>[^*\n]{1,40})\*\*(?P<value>.*)")
MODEL_KEY = re.compile(r"Model(?:[ \t]+(?P<who>.+))?", re.IGNORECASE)
RULE = re.compile(r"(?:-[ \t]*){3,}|(?:\*[ \t]*){3,}|(?:_[ \t]*){3,}")

MAX_TITLE_LENGTH = 80
MAX_SPEAKER_WORDS = 4
BANNER_SCORE = MAX_SCORE = 0.85
TURN_PREFIX_SCORE = 0.8
NAME_AND_MODEL_SCORE = 0.6
TIME_KEYS = ("started", "start", "date", "timestamp", "started at")
SCENARIO_KEYS = ("scenario", "experiment", "template", "experiment tag", "tag")


@dataclass(frozen=True)
class Heading:
    line_start: int
    text_start: int
    level: int
    speaker: str
    key: str | None  # the speaker's letter (`A`), which banner model lines name
    model: str | None  # the parenthesis of `A (Sonnet)`
    number: int | None  # N of `Turn N:`


@dataclass(frozen=True)
class Banner:
    end: int
    models: dict[str, str]
    model: str | None
    scenario: str | None
    timestamp: str | None


@dataclass(frozen=True)
class Reading:
    """The turn headings chosen and how strong the evidence for them is."""

    turns: list[Heading]
    score: float


# --------------------------------------------------------------------- sniffing


def sniff(name: str, head_text: str) -> float:
    """0.85 for alternating headings of banner-named speakers, 0.8 for `Turn N:` ones,
    0.6 for recurring `NAME (Model)` ones; 0 for other markdown."""
    return _read(head_text).score


# ---------------------------------------------------------------------- loading


def load(doc: Document) -> Iterator[Conversation]:
    """One conversation per file."""
    text = doc.read_text()
    reading = _read(text, forced=True)
    if not reading.turns:
        raise SkipFile("not a markdown transcript: no headings of two speakers taking turns")
    banner = _read_banner(text, reading.turns[0].line_start)
    if text[banner.end: reading.turns[0].line_start].strip():
        doc.notices.add("text before the first turn is not part of any turn",
                        line_of_first_text(text, banner.end))
    turns = tuple(_iter_turns(doc.path, text, reading.turns, banner))
    yield Conversation(doc.path, doc.path, NAME, turns, scenario=banner.scenario,
                       timestamp=banner.timestamp)


def _read(text: str, forced: bool = False) -> Reading:
    """The best set of turn headings of one level; with `forced`, also those that show
    two alternating speakers without a banner, a `Turn N:` or a `(Model)`."""
    headings = _headings(text)
    if not headings:
        return Reading([], 0.0)
    banner = _read_banner(text, len(text))  # header lines may come before and between headings
    best = Reading([], 0.0)
    for level in sorted({h.level for h in headings}):
        reading = _reading_of_level([h for h in headings if h.level == level], banner, forced)
        if (reading.score, len(reading.turns)) > (best.score, len(best.turns)):
            best = reading
    return best


def _reading_of_level(headings: list[Heading], banner: Banner, forced: bool) -> Reading:
    keyed = [h for h in headings if h.key is not None and (h.key in banner.models
                                                           or h.speaker in banner.models)]
    if _take_turns(keyed, 2):
        return Reading(keyed, BANNER_SCORE)
    numbered = _growing([h for h in headings if h.number is not None])
    if _take_turns(numbered, 2):
        return Reading(numbered, TURN_PREFIX_SCORE)
    counts = Counter(h.speaker for h in headings)
    recurring = [h for h in headings if counts[h.speaker] > 1]
    if _take_turns(recurring, 4) and all(h.model for h in recurring):
        return Reading(recurring, NAME_AND_MODEL_SCORE)
    if forced and _take_turns(recurring, 3):
        return Reading(recurring, 0.0)
    return Reading([], 0.0)


def _take_turns(headings: list[Heading], at_least: int) -> bool:
    """At least `at_least` headings of two speakers or more, the speaker changing at
    least at every other heading."""
    speakers = [h.speaker for h in headings]
    changes = sum(a != b for a, b in pairwise(speakers))
    return len(speakers) >= at_least and len(set(speakers)) >= 2 and 2 * changes >= len(speakers) - 1


def _growing(headings: list[Heading]) -> list[Heading]:
    kept: list[Heading] = []
    for heading in headings:
        if not kept or (heading.number or 0) > (kept[-1].number or 0):
            kept.append(heading)
    return kept


def _headings(text: str) -> list[Heading]:
    found = []
    for start, match in at_line_starts(HEADING, text):
        heading = _parse_title(match["title"].strip())
        if heading is not None:
            speaker, key, model, number = heading
            found.append(Heading(start, next_line_start(text, match.end()), len(match["hashes"]),
                                 speaker, key, model, number))
    return found


def _parse_title(title: str) -> tuple[str, str | None, str | None, int | None] | None:
    """(speaker, key, model, number) of a heading that could head a turn, else None."""
    if not title or len(title) > MAX_TITLE_LENGTH or title.endswith("#"):
        return None  # closed `### X ###` headings are fork logs'
    number = None
    prefix = TURN_PREFIX.match(title)
    if prefix:
        number, title = int(prefix["number"]), title[prefix.end():]
    title = title.lstrip(" \t*_`").rstrip(" \t*_`")
    while title and not title[0].isalnum():
        title = title[1:]  # an emoji or symbol before the name: `🤖A Claude_A`
    model = None
    if title.endswith(")") and "(" in title:
        opening = title.rfind("(")
        model, title = title[opening + 1:-1].strip() or None, title[:opening].strip()
    words = title.split()
    if not words or len(words) > MAX_SPEAKER_WORDS:
        return None
    if len(words) > 1 and len(words[0]) == 1 and words[0].isupper():
        return " ".join(words[1:]), words[0], model, number
    return title, (title if len(title) == 1 else None), model, number


def _read_banner(text: str, end: int) -> Banner:
    """The header lines before offset `end` (the first heading or turn)."""
    values: dict[str, str] = {}
    models: dict[str, str] = {}
    offset = 0
    while offset < end:
        line_end = min(next_line_start(text, offset), end)
        line = text[offset:line_end].strip()
        bold = BOLD_KEY.fullmatch(line)
        if bold:
            key = bold["key"].strip().rstrip(":").strip()
            value = bold["value"].strip().lstrip(":").strip()
            values.setdefault(key.lower(), value)
            model_of = MODEL_KEY.fullmatch(key)
            if model_of and model_of["who"] and value:
                models.setdefault(model_of["who"].strip(), value)
        elif line and not (line.startswith("#") or RULE.fullmatch(line)):
            break
        offset = line_end
    return Banner(
        end=offset,
        models=models,
        model=values.get("model") or None,
        scenario=next((values[k] for k in SCENARIO_KEYS if values.get(k)), None),
        timestamp=_iso_timestamp(next((values[k] for k in TIME_KEYS if values.get(k)), "")),
    )


def _iso_timestamp(value: str) -> str | None:
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if moment.tzinfo is not None:
        return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def _iter_turns(path: str, text: str, headings: list[Heading], banner: Banner) -> Iterator[Turn]:
    locate = LineLocator(text)
    ends = [h.line_start for h in headings[1:]] + [len(text)]
    for index, (heading, end) in enumerate(zip(headings, ends), 1):
        body, start = trimmed_slice(text, heading.text_start, end)
        body = _without_closing_rule(body)
        line, column = locate(start)
        model = (banner.models.get(heading.key or "") or banner.models.get(heading.speaker)
                 or banner.model or heading.model)
        yield Turn(
            conversation=path,
            index=index,
            speaker=heading.speaker,
            role=Role.SPOKEN,
            text=body,
            source=path,
            line=line,
            column=column,
            model=model,
            scenario=banner.scenario,
            timestamp=banner.timestamp,
        )


def _without_closing_rule(body: str) -> str:
    """The turn's text without a `---` rule on its last line (the turns' separator)."""
    last_break = body.rfind("\n")
    if last_break != -1 and RULE.fullmatch(body[last_break + 1:].strip()):
        return body[:last_break].rstrip()
    return body


