"""Format A: Infinite Backrooms dumps as text files, and the scraped site's text and HTML pages.

A file may open with one line of scraped-site chrome (file name, "• infinite
backrooms", "Back to index", "scenario: NAME" and boilerplate run together),
then `actors:` / `models:` / `temp:` header lines, then `<X#SYSTEM>` and
`<X#CONTEXT>` prompt blocks, then turns. A turn header is a line that is
exactly `<speaker>`; the turn's text runs up to the next header. A page with
no tag lines at all (the conversation run together on a few long lines) is
cut at its prompt tags and at the `<name>` tags of declared and positional
speakers wherever they stand; other inline tags stay text.

Which `<name>` lines head a turn (the speaker rule), all from the file's own
evidence at once:
- The names the file declares -- `actors:` and the actor part of every prompt
  tag (`<claude-explorer-claude-3-opus-20240229#SYSTEM>` -> `claude-explorer`),
  positional or not (`actors: Claude 1, claude-opus-4`).
- Positional tags `<Claude N>` (N at most the number of actors or models, and
  at least 2) when they head more lines than declared names do: some dumps
  declare `actors: Culture Receiver,Culture Mind` yet head their turns
  `<Claude 1>` / `<Claude 2>`.
- With none of these (no header, or declared names that never head a turn):
  the two most frequent tag lines that occur at least twice each, alternate
  (the speaker changes at least at every other header).
- Then, while there are fewer speakers than actors or models (at least 2),
  any other tag line that recurs and stands between two turns of the same
  speaker at nearly each place it occurs: the alternation it restores is the
  evidence.
Names with a closing tag `</name>` in the file and common markup (`<system>`,
`<OOC>`, ...) never head a turn unless declared. Every other tag-like line
(`<OOC>`, `<html>`, `</system>`, `<END OF FILE>`, role-play names) is turn text.

Models: a declared actor takes the model at its position in `models:`;
`Claude N` takes the N-th model; otherwise the model named in the speaker's
prompt tag, if any.

Roles: a SYSTEM block gives one system turn when it is not blank. A CONTEXT
block is a JSON list (or one message object) that ends where its brackets
balance, strings and escapes respected, read leniently (trailing commas, raw
control characters in strings); it gives one context turn per message with
text. Text after that value is not context: right before the first turn it is
the opening turn with its tag missing, credited to the speaker who alternates
with the first tagged one and marked `speaker_inferred`; elsewhere it is left
out. A block that is not JSON gives one context turn holding the raw block,
and a notice at the line where the JSON breaks. Text left out (before the
first turn, after a CONTEXT value) gets one notice per file, at its first line.
Text turns are verbatim slices of the decoded text; a context message is
verbatim only when its JSON string needed no escapes; turns read from HTML
are never verbatim and all sit at the `<pre>` content (notices name the page
line).

Scenario: `scenario: NAME` from the chrome line, else the file name
`conversation_<unix-ts>_scenario_<name>.txt` (a hyphen slug without spaces
becomes spaces). Timestamp: the file name's unix time as ISO 8601 UTC, given
to every turn.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from functools import lru_cache, partial
from html.parser import HTMLParser
from itertools import pairwise
from typing import NamedTuple

from backrooms_scan.decode import Document, may_hold_mojibake, sniff_encoding
from backrooms_scan.formats import Format
from backrooms_scan.formats.positions import (
    LineLocator,
    first_at_line_start,
    matches_at_line_starts,
)
from backrooms_scan.records import Conversation, Role, SkipFile, Turn

TEXT_FORMAT = "backrooms"
HTML_FORMAT = "backrooms-html"

# Real tag names are short; a bound on their length keeps hostile lines cheap to scan.
MAX_NAME = 200
TAG_LINE = re.compile(rf"^<([^<>\n]{{1,{MAX_NAME}}})>[ \t]*$", re.MULTILINE)
INLINE_TAG = re.compile(rf"<([^<>\n]{{1,{MAX_NAME}}})>")
CLOSING_TAG = re.compile(rf"</([^<>\n]{{1,{MAX_NAME}}})>")
HEADER_LINE = re.compile(r"(actors|models|temp)[ \t]*:(.*)", re.IGNORECASE)
POSITIONAL_TAG = re.compile(r"Claude (\d{1,6})")
MODEL_FAMILY = re.compile(
    r"-(?:claude|gpt|chatgpt|o\d|gemini|llama|mistral|mixtral|hermes|grok|deepseek|qwen|command)",
    re.IGNORECASE,
)
MODEL_CHARS = re.compile(r"[\w.:\-]*")
FILE_NAME = re.compile(r"conversation_(\d+)_scenario_(.+?)(?:\.txt)?(?:\.html?)?$", re.IGNORECASE)
FILE_NAME_START = re.compile(r"conversation_(\d+)_scenario_", re.IGNORECASE)
TXT_SUFFIX = re.compile(r"\.txt", re.IGNORECASE)
NAME_SUFFIXES = (".txt.html", ".txt.htm", ".txt", ".html", ".htm")
CHROME_MARK = re.compile(r"infinite backrooms|back to index", re.IGNORECASE)
CHROME_SCENARIO = re.compile(r"scenario:[ \t]*", re.IGNORECASE)
BOILERPLATE = re.compile(r"The following |This is an? |An automated |experiment by ")
RUN_TOGETHER = re.compile(r"(?<=[a-z0-9.!?)])(?=[A-Z][a-z])")
WHITESPACE = re.compile(r"\s*")
CONTENT_STRING = re.compile(r'"content"\s*:\s*"')
JSON_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{},"]', re.DOTALL)
LENIENT_JSON = json.JSONDecoder(strict=False)  # raw control characters inside strings
MARKUP_NAMES = frozenset(
    {"system", "ooc", "html", "head", "body", "pre", "code", "p", "br", "hr", "dream",
     "end of file", "eof", "ctrl-c", "^c"}
)
BEFORE_FIRST_TURN = "text before the first turn"

# A header line or a prompt tag line, found in one pass over the head.
SNIFF_DECLARATION = re.compile(
    r"^(?:(?:actors|models)[ \t]*:|<[^<>\n]+#(?:SYSTEM|CONTEXT)>[ \t]*$)", re.MULTILINE
)
# A site page's marks, `<pre class="dream">` or its title, found in one pass over the head.
SITE_PAGE_MARK = re.compile(
    r"""<pre\b[^>]*\bclass\s*=\s*["']?[^"'>]*\bdream"""
    r"|<title>[^<]*infinite backrooms\s*</title>",
    re.IGNORECASE,
)

Note = Callable[[str, "int | None"], None]


# ---------------------------------------------------------------- sniffing


DECLARED_SCORE = 0.9  # a header or a prompt tag
# A dump's file name alone: less than the headers of a layout that says otherwise (a fork
# log's `### NAME N ###`) and than an HTML page's markup, but the winner of a tie.
FILE_NAME_SCORE = 0.85
TAG_LINES_SCORE = 0.5
PAGE_SCORE = 0.95


def sniff_text(name: str, head: str) -> float:
    """How sure we are that a text file is a format-A dump (DECLARED_SCORE, FILE_NAME_SCORE,
    or TAG_LINES_SCORE from tag lines only). Other layouts are left to their own sniffers:
    detection takes the most confident."""
    first = WHITESPACE.match(head).end()  # `\s` is what str.strip() strips
    if head[first : first + 1] in ("{", "["):
        return 0.0
    if first_at_line_start(SNIFF_DECLARATION, head):
        return DECLARED_SCORE
    if FILE_NAME.search(name):
        return FILE_NAME_SCORE
    names = [tag.name for tag in tag_lines(head)]
    return TAG_LINES_SCORE if names and recurring_speakers(names, closing_tags(head)) else 0.0


def sniff_html(name: str, head: str) -> float:
    """A site page: `<pre class="dream">` or a title ending in "infinite backrooms"."""
    return PAGE_SCORE if SITE_PAGE_MARK.search(head) else 0.0


# ---------------------------------------------------------------- loading


def load_text(doc: Document) -> Iterator[Conversation]:
    """One conversation from a dump text file or a scraped text page."""
    text = doc.read_text()
    transcript = parse_transcript(text, doc.notices.add)
    yield _conversation(doc.path, TEXT_FORMAT, transcript, doc.name)


def load_html(doc: Document) -> Iterator[Conversation]:
    """One conversation from a site page: the transcript inside `<pre class="dream">`."""
    page = _DreamPage()
    try:
        page.feed(doc.read_text())
        page.close()
    except (AssertionError, ValueError) as error:  # html.parser's own complaints
        raise SkipFile(f"unreadable HTML: {error}") from error
    if page.dream_start is None:
        raise SkipFile('no <pre class="dream"> transcript in the page')
    pre_line, pre_column = page.dream_start
    dream = "".join(page.dream_parts)

    def note(message: str, line: int | None) -> None:
        doc.notices.add(message, None if line is None else page.source_line(dream, line))

    transcript = parse_transcript(dream, note)
    parsed = [
        replace(turn, line=pre_line, column=pre_column, verbatim=False)
        for turn in transcript.turns
    ]
    transcript = replace(transcript, turns=parsed)
    title_name = "".join(page.title_parts).strip()
    yield _conversation(doc.path, HTML_FORMAT, transcript, title_name, doc.name)


# ---------------------------------------------------------------- the transcript


@dataclass(slots=True)
class ParsedTurn:
    """A turn before it knows its conversation: what a parse of the text yields."""

    speaker: str
    role: Role
    text: str
    line: int
    column: int = 1
    model: str | None = None
    verbatim: bool = True
    speaker_inferred: bool = False


@dataclass(frozen=True, slots=True)
class Transcript:
    """Everything read from one format-A text: turns in order plus what the chrome said."""

    turns: list[ParsedTurn] = field(default_factory=list)
    scenario: str | None = None
    file_name: str | None = None
    actors: tuple[str, ...] = ()
    models: tuple[str, ...] = ()


class Tag(NamedTuple):
    """A header `<name>`: where the tag starts, where the text it heads starts, the name."""

    start: int
    body: int
    name: str


class FileName(NamedTuple):
    """`conversation_<ts>_scenario_<name>.txt` found in a text."""

    start: int
    end: int
    stamp: str
    name: str


@dataclass(frozen=True, slots=True)
class _Header:
    actors: list[str]
    models: list[str]
    chrome: str | None
    unread_line: int | None


class _Speakers:
    """Who heads turns, in the file's order (declared first), and the model of each."""

    def __init__(self, names: list[str], header: _Header, prompt_models: dict[str, str]):
        self.names = names
        self.actors = header.actors
        self.models = header.models
        self.prompt_models = prompt_models
        self.actor_positions = {actor: index for index, actor in reversed(list(enumerate(self.actors)))}
        self._model_of: dict[str, str | None] = {}

    def model_of(self, speaker: str) -> str | None:
        if speaker not in self._model_of:
            self._model_of[speaker] = _model_for(speaker, self.actor_positions, self.models,
                                                 self.prompt_models)
        return self._model_of[speaker]

    def opener(self, first_tagged: str | None) -> str | None:
        """Who said untagged opening text: the other one of two alternating speakers."""
        if first_tagged is None:
            return (self.names or self.actors or [None])[0]
        if len(self.names) == 2 and first_tagged in self.names:
            return self.names[1 - self.names.index(first_tagged)]
        position = _position(first_tagged)
        if position in (1, 2):
            return f"Claude {3 - position}"
        if len(self.actors) == 2 and first_tagged in self.actors:
            return self.actors[1 - self.actors.index(first_tagged)]
        return None


def tag_lines(text: str) -> list[Tag]:
    """Every line that is exactly `<name>`, in order; the text it heads starts on the next line."""
    size = len(text)
    return [Tag(found.start(1) - 1, min(found.end() + 1, size), name)
            for found in matches_at_line_starts(TAG_LINE, text)
            if (name := found.group(1).strip())]


def inline_tags(text: str, is_header: Callable[[str], bool]) -> list[Tag]:
    """Tags `<name>` anywhere in the text that `is_header` accepts; each heads the text after
    it, from its first non-blank character."""
    return [Tag(found.start(), WHITESPACE.match(text, found.end()).end(), name)
            for found in INLINE_TAG.finditer(text)
            if is_header(name := found.group(1).strip())]


def parse_transcript(text: str, note: Note) -> Transcript:
    """Split a format-A text into system, context and spoken turns (see the module rules)."""
    tags = tag_lines(text) or _inline_headers(text)
    tags, contexts = _without_tags_inside_context(text, tags)
    header = _read_header(text[: tags[0].start if tags else len(text)])
    prompt_actors = _prompt_actors(tags, header.models)
    speakers = _speakers(tags, header, prompt_actors, partial(closing_tags, text))
    reader = _TurnReader(text, note, speakers, prompt_actors, contexts)
    if header.unread_line is not None:
        reader.leave_out(header.unread_line, BEFORE_FIRST_TURN)
    reader.read(tags)
    reader.finish()

    chrome_name = _file_name_in(header.chrome) if header.chrome else None
    return Transcript(
        turns=reader.turns,
        scenario=_chrome_scenario(header.chrome, chrome_name) if header.chrome else None,
        file_name=header.chrome[chrome_name.start : chrome_name.end] if chrome_name else None,
        actors=tuple(header.actors),
        models=tuple(header.models),
    )


def _inline_headers(text: str) -> list[Tag]:
    """For a page without tag lines: its prompt tags and the tags of declared and positional
    speakers wherever they stand (`<OOC>` and other tags inline stay text)."""
    header = _read_header(text)
    names = {found.group(1).strip() for found in INLINE_TAG.finditer(text)}
    prompt_names = {name for name in names if _prompt_kind(name)}
    turn_names = names - prompt_names
    speakers = set(header.actors) | {
        _split_actor_model(_prompt_kind(name)[0], header.models, turn_names)[0]
        for name in prompt_names
    }
    highest = _highest_position(header)
    return inline_tags(text, lambda name: name in prompt_names or name in speakers
                       or 1 <= (_position(name) or 0) <= highest)


def _without_tags_inside_context(
    text: str | bytes, tags: list[Tag], read: Callable | None = None,
) -> tuple[list[Tag], dict[int, object]]:
    """The tags that are not inside a CONTEXT block's JSON value, and each CONTEXT tag's
    reading (by tag start) by `read` (default `read_context`): a `ContextList`, a `NotJson`
    saying why not, or None when the block does not start with a JSON list. The outline
    passes its bytes and `_read_context_bytes`."""
    read = read or read_context
    kinds = {name: kind for name in {tag.name for tag in tags} if (kind := _prompt_kind(name))}
    contexts: dict[int, object] = {}
    context_names = {name for name, (_, kind) in kinds.items() if kind == "CONTEXT"}
    if not context_names:
        return tags, contexts
    prompt_starts = [tag.start for tag in tags if tag.name in kinds]
    kept: list[Tag] = []
    value_end = 0
    for tag in tags:
        if tag.start < value_end:
            continue
        kept.append(tag)
        if tag.name in context_names:
            # A JSON value runs at most to the next prompt tag: a scan that fails stops there.
            following = bisect_right(prompt_starts, tag.start)
            limit = prompt_starts[following] if following < len(prompt_starts) else len(text)
            reading = read(text, tag.body, limit)
            contexts[tag.start] = reading
            if isinstance(reading, ContextList):
                value_end = reading.end
    return kept, contexts


def _prompt_actors(tags: list[Tag], models: list[str]) -> dict[str, tuple[str, str | None]]:
    """(actor, model) of each prompt tag name, `<claude-explorer-claude-3-opus#SYSTEM>` ->
    (`claude-explorer`, `claude-3-opus`)."""
    names = {tag.name for tag in tags}
    prompt_names = {name: kind for name in names if (kind := _prompt_kind(name))}
    turn_names = names - prompt_names.keys()
    # An actor's SYSTEM and CONTEXT tags split alike: split each actor once.
    splits = {actor: _split_actor_model(actor, models, turn_names)
              for actor, _ in prompt_names.values()}
    return {name: splits[kind[0]] for name, kind in prompt_names.items()}


def _speakers(tags: list[Tag], header: _Header, prompt_actors: dict,
              closing: Callable[[], frozenset[str]]) -> _Speakers:
    turn_names = [tag.name for tag in tags if tag.name not in prompt_actors]
    declared = header.actors + [actor for actor, _ in prompt_actors.values()]
    names = choose_speakers(turn_names, declared, _highest_position(header), closing)
    prompt_models = {actor: model for actor, model in prompt_actors.values() if model}
    return _Speakers(names, header, prompt_models)


def choose_speakers(turn_names: list[str], declared: list[str], highest_position: int,
                    closing: Callable[[], frozenset[str]]) -> list[str]:
    """The tag names that head turns, declared ones first, by the module's speaker rule.
    `closing` gives the names with a closing tag in the file, asked for only when the
    declared and positional names leave room for more (most files name all they need)."""
    counts = Counter(turn_names)
    names = [name for name in dict.fromkeys(declared) if name in counts]
    positional = [name for name in counts
                  if name not in names and 1 <= (_position(name) or 0) <= highest_position]
    if sum(counts[name] for name in positional) > sum(counts[name] for name in names):
        names += positional
    if not names:
        names = recurring_speakers(turn_names, closing())
    room = highest_position - len(names)
    if room <= 0:
        return names
    return names + alternating_additions(turn_names, names, closing())[:room]


def recurring_speakers(turn_names: list[str], closing: frozenset[str]) -> list[str]:
    """Two actor-like tag names that recur and alternate, for files that declare nobody;
    `closing` holds the names with a closing tag in the file."""
    counts = Counter(name for name in turn_names if _could_be_speaker(name, closing))
    candidates = [name for name, count in counts.most_common(2) if count >= 2]
    if len(candidates) < 2:
        return []
    sequence = [name for name in turn_names if name in candidates]
    changes = sum(a != b for a, b in pairwise(sequence))
    return candidates if 2 * changes >= len(sequence) - 1 else []


def alternating_additions(turn_names: list[str], speakers: list[str],
                          closing: frozenset[str]) -> list[str]:
    """Other tag names that head turns: ones that recur, and stand between two turns of the
    same speaker at nearly each place they occur (the alternation they restore is the
    evidence), best first."""
    chosen = set(speakers)
    repeat_gaps: set[int] = set()
    places: dict[str, Counter[int]] = {}
    gap, previous = 0, None
    for name in turn_names:
        if name in chosen:
            if name == previous:
                repeat_gaps.add(gap)
            gap, previous = gap + 1, name
        elif _could_be_speaker(name, closing):
            places.setdefault(name, Counter())[gap] += 1
    scores = {}
    for name, gaps in places.items():
        occurrences = sum(gaps.values())
        restored = sum((g in repeat_gaps) - (k - 1) for g, k in gaps.items())
        if occurrences >= 2 and restored >= max(1, occurrences - 1):
            scores[name] = restored
    return sorted(scores, key=lambda name: -scores[name])


def closing_tags(text: str) -> frozenset[str]:
    """Every name that has a closing tag `</name>` somewhere in the text."""
    return frozenset(found.group(1).strip() for found in CLOSING_TAG.finditer(text))


def _could_be_speaker(name: str, closing: frozenset[str]) -> bool:
    return (name[0].isalnum() and name.lower() not in MARKUP_NAMES and name not in closing
            and not _prompt_kind(name))


@lru_cache(maxsize=4096)  # the same few names recur in every file of a dump
def _prompt_kind(name: str) -> tuple[str, str] | None:
    """(actor part, `SYSTEM` or `CONTEXT`) of a prompt tag name, else None."""
    actor, hash_sign, kind = name.rpartition("#")
    actor = actor.strip()
    return (actor, kind) if hash_sign and actor and kind in ("SYSTEM", "CONTEXT") else None


def _position(name: str) -> int | None:
    """N of a positional tag name `Claude N`."""
    match = POSITIONAL_TAG.fullmatch(name)
    return int(match.group(1)) if match else None


def _highest_position(header: _Header) -> int:
    """The highest N a positional `Claude N` may have: one per actor or model, at least 2."""
    return max(2, len(header.actors), len(header.models))


class _TurnReader:
    """Turns the headers of a text, in order, into parsed turns; keeps track of text left out."""

    def __init__(self, text: str, note: Note, speakers: _Speakers,
                 prompt_actors: dict[str, tuple[str, str | None]], contexts: dict[int, object]):
        self.text = text
        self.note = note
        self.speakers = speakers
        self.prompt_actors = prompt_actors
        self.contexts = contexts
        self.locate = LineLocator(text)
        self.turns: list[ParsedTurn] = []
        self.left_out: list[tuple[int, str]] = []
        self.contentless: list[int] = []
        self.headerless = False

    def read(self, tags: list[Tag]) -> None:
        speakers = set(self.speakers.names)
        headers = [tag for tag in tags if tag.name in speakers or tag.name in self.prompt_actors]
        self.headerless = not headers
        first_body = headers[0].start if headers else len(self.text)
        if tags and self.text[tags[0].start : first_body].strip():
            self.leave_out(self.locate(tags[0].start)[0], BEFORE_FIRST_TURN)
        first_turn = next((tag for tag in headers if tag.name not in self.prompt_actors), None)
        text, locate, parsed, model_of = self.text, self.locate, self.turns, self.speakers.model_of
        for tag, following in zip(headers, headers[1:] + [None]):
            end = following.start if following else len(text)
            if tag.name not in self.prompt_actors:  # the common case, kept inline for speed
                line, column = locate(tag.body)
                parsed.append(ParsedTurn(tag.name, Role.SPOKEN, text[tag.body : end].rstrip(),
                                         line, column, model_of(tag.name)))
            elif tag.name.endswith("SYSTEM"):
                self.system(tag, end)
            else:
                opening = following is first_turn
                self.context(tag, end, first_turn.name if first_turn else None, opening)

    def spoken(self, speaker: str, start: int, end: int, inferred: bool = False) -> None:
        line, column = self.locate(start)
        self.turns.append(ParsedTurn(speaker, Role.SPOKEN, self.text[start:end].rstrip(), line,
                                     column, self.speakers.model_of(speaker),
                                     speaker_inferred=inferred))

    def system(self, tag: Tag, end: int) -> None:
        body = self.text[tag.body : end].rstrip()
        if body.strip():
            actor, model = self._actor_and_model(tag)
            line, column = self.locate(tag.body)
            self.turns.append(ParsedTurn(actor, Role.SYSTEM, body, line, column, model))

    def context(self, tag: Tag, end: int, first_speaker: str | None, opening: bool) -> None:
        actor, model = self._actor_and_model(tag)
        reading = self.contexts[tag.start]
        if isinstance(reading, ContextList):
            self._context_messages(reading, actor, model)
            self._after_context(reading.end, end, first_speaker, opening)
            return
        body = self.text[tag.body : end].rstrip()
        if body.strip():
            line, column = self.locate(tag.body)
            self.turns.append(ParsedTurn(actor, Role.CONTEXT, body, line, column, model))
            reason, position = reading or _json_error(self.text, tag.body, end)
            self.note(f"CONTEXT block is not valid JSON ({reason}); kept as raw text",
                      self.locate(position)[0])

    def _context_messages(self, reading: ContextList, actor: str, model: str | None) -> None:
        for message in reading.messages:
            if message.text is None:
                self.contentless.append(self.locate(message.start)[0])
            elif message.text.strip():
                line, column = self.locate(message.text_start)
                self.turns.append(ParsedTurn(actor, Role.CONTEXT, message.text, line, column,
                                             model, message.verbatim))

    def _after_context(self, start: int, end: int, first_speaker: str | None,
                       opening: bool) -> None:
        """Text after a CONTEXT value: the untagged opening turn when no prompt follows it."""
        start = WHITESPACE.match(self.text, start, end).end()
        if start == end:
            return
        speaker = self.speakers.opener(first_speaker) if opening else None
        if speaker is None:
            self.leave_out(self.locate(start)[0], "text after the CONTEXT block")
        else:
            self.spoken(speaker, start, end, inferred=True)

    def _actor_and_model(self, tag: Tag) -> tuple[str, str | None]:
        actor, tag_model = self.prompt_actors[tag.name]
        return actor, tag_model or self.speakers.model_of(actor)

    def leave_out(self, line: int, what: str) -> None:
        self.left_out.append((line, what))

    def finish(self) -> None:
        """One notice for text left out and one for messages without text, each per file."""
        if self.left_out:
            line, what = self.left_out[0]
            self.note(f"{what} is not part of any turn; not scanned{_more(self.left_out)}", line)
        if self.headerless:
            self.note("no turn headers found", None)
        if self.contentless:
            self.note(f"CONTEXT message without text content; skipped{_more(self.contentless)}",
                      self.contentless[0])


def _more(places: list) -> str:
    return f" (and {len(places) - 1} more)" if len(places) > 1 else ""


def _read_header(area: str) -> _Header:
    """Header lines, chrome line and any other text found before the first tag line."""
    actors: list[str] = []
    models: list[str] = []
    chrome = None
    unread_line = None
    seen_content = False
    for number, line in enumerate(area.split("\n"), 1):
        stripped = line.strip()
        if not stripped:
            continue
        first_content, seen_content = not seen_content, True
        match = HEADER_LINE.fullmatch(stripped)
        if match:
            values = [value.strip() for value in match.group(2).split(",") if value.strip()]
            key = match.group(1).lower()
            if key == "actors":
                actors = values
            elif key == "models":
                models = values
        elif first_content and _is_chrome(stripped):
            chrome = stripped
        elif unread_line is None:
            unread_line = number
    return _Header(actors, models, chrome, unread_line)


def _is_chrome(line: str) -> bool:
    found = _file_name_in(line)
    return bool(CHROME_MARK.search(line) or (found and found.start == 0))


def _file_name_in(text: str) -> FileName | None:
    """The first `conversation_<ts>_scenario_<name>.txt` in a text, the name ending at the
    first `.txt` of its line (found without a lazy regex's backtracking on long lines)."""
    position = 0
    while found := FILE_NAME_START.search(text, position):
        line_end = text.find("\n", found.end())
        line_end = len(text) if line_end == -1 else line_end
        suffix = TXT_SUFFIX.search(text, found.end() + 1, line_end)
        if suffix:
            return FileName(found.start(), suffix.end(), found.group(1),
                            text[found.end() : suffix.start()])
        position = line_end + 1  # a later start on this line has no `.txt` after it either
    return None


def _chrome_scenario(chrome: str, chrome_name: FileName | None) -> str | None:
    """`scenario: NAME` from the chrome line, cut where the run-together boilerplate starts."""
    match = CHROME_SCENARIO.search(chrome, chrome_name.end if chrome_name else 0)
    if match is None:
        return None
    after = chrome[match.end() :]
    if chrome_name:
        slug = _deslug(chrome_name.name)
        if after[: len(slug)].lower().replace("-", " ") == slug.lower():
            return after[: len(slug)]
    end = BOILERPLATE.search(after) or RUN_TOGETHER.search(after)
    scenario = (after[: end.start()] if end else after).strip()
    return scenario or None


def _split_actor_model(tag_actor: str, models: list[str], turn_names: set[str]) -> tuple[str, str | None]:
    """`claude-explorer-claude-3-opus-20240229` -> (`claude-explorer`, `claude-3-opus-20240229`)."""
    dashes = _dash_positions(tag_actor)
    known_models = set(models)
    for index in dashes:
        if tag_actor[index + 1 :] in known_models:
            return tag_actor[:index], tag_actor[index + 1 :]
    if tag_actor in turn_names:
        return tag_actor, None
    for index in reversed(dashes):
        if tag_actor[:index] in turn_names:
            return tag_actor[:index], tag_actor[index + 1 :]
    # A model name at the end: the run of name characters that ends the tag, from a family.
    tail = len(tag_actor) - MODEL_CHARS.match(tag_actor[::-1]).end()
    family = MODEL_FAMILY.search(tag_actor, max(tail, 1))
    if family:
        return tag_actor[: family.start()], tag_actor[family.start() + 1 :]
    return tag_actor, None


def _dash_positions(name: str) -> list[int]:
    """Where the `-` of a name stand, past its first character."""
    positions = []
    found = name.find("-", 1)
    while found != -1:
        positions.append(found)
        found = name.find("-", found + 1)
    return positions


def _model_for(
    speaker: str, actor_positions: dict[str, int], models: list[str], prompt_models: dict[str, str]
) -> str | None:
    position = actor_positions.get(speaker)
    if position is not None and position < len(models):
        return models[position]
    positional = _position(speaker)
    if positional and 1 <= positional <= len(models):
        return models[positional - 1]
    if speaker in prompt_models:
        return prompt_models[speaker]
    return models[0] if len(models) == 1 else None


# ---------------------------------------------------------------- CONTEXT blocks


class Message(NamedTuple):
    """One CONTEXT message: where it starts, its text (None without any) and where that is."""

    start: int
    text: str | None
    text_start: int
    verbatim: bool


class ContextList(NamedTuple):
    """A CONTEXT block read as JSON: its messages and where its JSON value ends."""

    messages: list[Message]
    end: int


class NotJson(NamedTuple):
    """A CONTEXT block that is not a JSON list: why, and where that shows."""

    reason: str
    position: int


def read_context(text: str, start: int, limit: int) -> ContextList | NotJson | None:
    """The JSON list (or single message object) that starts a CONTEXT block at `start`,
    ending where its brackets balance (at most at `limit`), read leniently; None when no
    balanced value starts there."""
    start = WHITESPACE.match(text, start, limit).end()
    value = json_value_span(text, start, limit)
    if value is None:
        return None
    end, cleaned = value
    elements = _elements(cleaned)
    if isinstance(elements, NotJson):
        return elements._replace(position=start + elements.position)
    messages = [_message(text, start + offset, start + item_end, item)
                for offset, item, item_end in elements]
    return ContextList(messages, end)


def json_value_span(text: str, start: int, limit: int) -> tuple[int, str] | None:
    """(end, lenient copy) of the JSON array or object at `start`: the value ends where its
    brackets balance, strings and escapes respected; in the copy each trailing comma is a space,
    so offsets stay those of the text. None if it does not start there or never balances."""
    if not text.startswith(("[", "{"), start):
        return None
    depth = 0
    comma = None
    trailing: list[int] = []
    for token in JSON_TOKEN.finditer(text, start, limit):
        char = token.group()[0]
        if char == '"':
            if token.end() - token.start() == 1:
                return None  # a string that never ends
            comma = None
        elif char in "[{":
            depth, comma = depth + 1, None
        elif char in "]}":
            if comma is not None and not text[comma + 1 : token.start()].strip():
                trailing.append(comma)
            depth, comma = depth - 1, None
            if depth == 0:
                return token.end(), _blank_out(text, start, token.end(), trailing)
        else:
            comma = token.start()
    return None


def _blank_out(text: str, start: int, end: int, positions: list[int]) -> str:
    parts, previous = [], start
    for position in positions:
        parts += [text[previous:position], " "]
        previous = position + 1
    parts.append(text[previous:end])
    return "".join(parts)


def _elements(value: str) -> list[tuple[int, object, int]] | NotJson:
    """(offset, value, end offset) of each element of a JSON list (an object counts as a
    list of one), or (reason, offset) where it is not JSON."""
    try:
        if value.startswith("{"):
            item, end = LENIENT_JSON.raw_decode(value)
            return [(0, item, end)]
        items = []
        position = WHITESPACE.match(value, 1).end()
        while not value.startswith("]", position):
            item, end = LENIENT_JSON.raw_decode(value, position)
            items.append((position, item, end))
            position = WHITESPACE.match(value, end).end()
            if value.startswith(",", position):
                position = WHITESPACE.match(value, position + 1).end()
            elif not value.startswith("]", position):
                return NotJson("expecting ',' delimiter", position)
        return items
    except json.JSONDecodeError as error:
        return NotJson(_reason(error), error.pos)
    except (ValueError, RecursionError):
        return NotJson("too deeply nested", 0)


def _json_error(text: str, start: int, limit: int) -> NotJson:
    """Why the text at `start` is not a JSON list, and where."""
    start = WHITESPACE.match(text, start, limit).end()
    try:
        value, end = LENIENT_JSON.raw_decode(text[start:limit])
    except json.JSONDecodeError as error:
        return NotJson(_reason(error), start + error.pos)
    except (ValueError, RecursionError):
        return NotJson("too deeply nested", start)
    if end < limit - start and text[start + end : limit].strip():
        return NotJson("text after the JSON value", start + end)
    return NotJson(f"a JSON {type(value).__name__}, not a list", start)


def _reason(error: json.JSONDecodeError) -> str:
    reason = error.msg.removesuffix(" starting at")
    return reason[:1].lower() + reason[1:]


def _message(text: str, start: int, end: int, message: object) -> Message:
    content = message.get("content") if isinstance(message, dict) else None
    body = _content_text(content)
    literal = (_literal_content_offset(text, start, end, body)
               if isinstance(content, str) else None)
    return Message(start, body, start if literal is None else literal, literal is not None)


def _content_text(content: object) -> str | None:
    """A message's text: a string, or the text parts of a list of parts joined by newlines."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [
            part if isinstance(part, str) else part.get("text")
            for part in content
            if isinstance(part, str) or (isinstance(part, dict) and isinstance(part.get("text"), str))
        ]
        return "\n".join(parts)
    return None


def _literal_content_offset(text: str, start: int, end: int, body: str) -> int | None:
    """Where `body` sits unescaped in the message's `"content"` string, if it does."""
    key = CONTENT_STRING.search(text, start, end)
    if key is None:
        return None
    position = key.end()
    if text.startswith(body, position) and text.startswith('"', position + len(body)):
        return position
    return None


# ---------------------------------------------------------------- small parts


class _DreamPage(HTMLParser):
    """Collects the page title and the text of the first `<pre class="dream">`."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.title_parts: list[str] = []
        self.dream_parts: list[str] = []
        self.dream_start: tuple[int, int] | None = None
        self.part_lines: list[tuple[int, int]] = []  # (offset in the transcript, page line)
        self._size = 0
        self._in_title = False
        self._pre_depth = 0
        self._found = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self._in_title = True
        elif tag == "pre" and self._pre_depth:
            self._pre_depth += 1
        elif tag == "pre" and not self._found and "dream" in (dict(attrs).get("class") or "").split():
            self._pre_depth, self._found = 1, True
            line, offset = self.getpos()
            self.dream_start = (line, offset + len(self.get_starttag_text() or "") + 1)
        elif tag == "br" and self._pre_depth:
            self._add_part("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag == "pre" and self._pre_depth:
            self._pre_depth -= 1

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title_parts.append(data)
        if self._pre_depth:
            if not self.dream_parts:
                line, offset = self.getpos()
                self.dream_start = (line, offset + 1)
            self._add_part(data)

    def _add_part(self, part: str) -> None:
        self.part_lines.append((self._size, self.getpos()[0]))
        self.dream_parts.append(part)
        self._size += len(part)

    def source_line(self, dream: str, line: int) -> int:
        """The page line of a transcript line (lines joined by `<br>` share a page line)."""
        offset = 0
        for _ in range(line - 1):
            offset = dream.index("\n", offset) + 1
        part = bisect_right(self.part_lines, (offset, float("inf"))) - 1
        part_offset, page_line = self.part_lines[max(part, 0)]
        return page_line + dream.count("\n", part_offset, offset)


def _file_name_info(*names: str | None) -> tuple[str | None, str | None]:
    """(timestamp, scenario) from the first name shaped `conversation_<ts>_scenario_<name>.txt`."""
    for name in names:
        found = _file_name_in(name or "") or _bare_file_name(name or "")
        if found and found.name.strip():
            return _iso_timestamp(found.stamp), _deslug(found.name.strip())
    return None, None


def _bare_file_name(name: str) -> FileName | None:
    """`conversation_<ts>_scenario_<name>` running to the end of a name, a suffix dropped."""
    found = FILE_NAME_START.search(name)
    if found is None:
        return None
    rest = name[found.end() :].split("\n", 1)[0].rstrip()
    lowered = rest.lower()
    suffix = next((s for s in NAME_SUFFIXES if lowered.endswith(s) and len(rest) > len(s)), "")
    return FileName(found.start(), len(name), found.group(1), rest[: len(rest) - len(suffix)])


def _iso_timestamp(unix_seconds: str) -> str | None:
    try:
        moment = datetime.fromtimestamp(int(unix_seconds), tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _deslug(name: str) -> str:
    return name.replace("-", " ") if "-" in name and " " not in name else name


def _conversation(path: str, fmt: str, transcript: Transcript, *names: str | None) -> Conversation:
    timestamp, name_scenario = _file_name_info(*names, transcript.file_name)
    scenario = transcript.scenario or name_scenario
    # Positional, in Turn's field order: a file can hold thousands of turns, and keywords
    # make each one cost about 2.5 times as much.
    turns = tuple([
        Turn(path, index, turn.speaker, turn.role, turn.text, path, turn.line, turn.column,
             turn.model, scenario, timestamp, turn.verbatim, turn.speaker_inferred)
        for index, turn in enumerate(transcript.turns, 1)
    ])
    return Conversation(
        id=path, source=path, format=fmt, turns=turns, scenario=scenario, timestamp=timestamp
    )


# ---------------------------------------------------------------- accounting from the bytes

JSON_TOKEN_BYTES = re.compile(JSON_TOKEN.pattern.encode(), re.DOTALL)
TAG_LINE_BYTES = re.compile(rb"^<([^<>\n]{1,%d})>[ \t]*$" % (4 * MAX_NAME), re.MULTILINE)
CLOSING_TAG_BYTES = re.compile(rb"</([^<>\n]{1,%d})>" % (4 * MAX_NAME))
ASCII_BLANK = b" \t\n\r\x0b\x0c"


def outline_text(doc: Document, data: bytes) -> Conversation | None:
    """The conversation of a dump text file with every turn's speaker, role and model but
    no text (each turn's text is empty and its line 0), read from the file's bytes `data`:
    what counting needs, without decoding the turns. Tag lines, the header and CONTEXT
    values are decoded alone; the rules are those of `parse_transcript`, whose helpers do
    the deciding.

    None when the full reading is needed to be sure: content that decoding would change
    (invalid UTF-8, NUL, terminal escapes, mojibake to repair), a page without tag lines,
    or anything that gives a notice.
    """
    data = _plain_utf8(doc, data)
    if data is None:
        return None
    tags = _tag_lines_in_bytes(data)
    if not tags:
        return None
    tags, contexts = _without_tags_inside_context(data, tags, _read_context_bytes)
    header = _read_header(data[: tags[0].start].decode("utf-8"))
    if header.unread_line is not None:
        return None
    prompt_actors = _prompt_actors(tags, header.models)
    speakers = _speakers(tags, header, prompt_actors, partial(_closing_tags_in_bytes, data))
    parsed = _outline_turns(data, tags, speakers, prompt_actors, contexts)
    if parsed is None:
        return None
    chrome_name = _file_name_in(header.chrome) if header.chrome else None
    transcript = Transcript(
        turns=parsed,
        scenario=_chrome_scenario(header.chrome, chrome_name) if header.chrome else None,
        file_name=header.chrome[chrome_name.start : chrome_name.end] if chrome_name else None,
        actors=tuple(header.actors),
        models=tuple(header.models),
    )
    return _conversation(doc.path, TEXT_FORMAT, transcript, doc.name)


def _plain_utf8(doc: Document, data: bytes) -> bytes | None:
    """The content as `read_text` would see it, still in bytes (no BOM, LF line ends), when
    decoding it changes nothing else and gives no notice; else None."""
    encoding, bom = sniff_encoding(doc.head)
    if encoding != "utf-8" or b"\x00" in data or b"\x1b" in data:
        return None
    if doc.fix_text and may_hold_mojibake(data, encoding):
        return None
    if not data.isascii() and not doc.decodes_cleanly():
        return None
    data = data[bom:]
    if b"\r" in data:
        data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    return data


def _tag_lines_in_bytes(data: bytes) -> list[Tag]:
    """`tag_lines` of the decoded text, at byte offsets. A name of at most MAX_NAME
    characters has at most 4 bytes each, so the bytes pattern finds every tag line and the
    decoded name's length decides."""
    size = len(data)
    names: dict[bytes, str] = {}
    tags = []
    for match in matches_at_line_starts(TAG_LINE_BYTES, data):
        raw = match[1]
        if (name := names.get(raw)) is None:
            decoded = raw.decode("utf-8")
            name = names[raw] = decoded.strip() if len(decoded) <= MAX_NAME else ""
        if name:
            tags.append(Tag(match.start(1) - 1, min(match.end() + 1, size), name))
    return tags


def _closing_tags_in_bytes(data: bytes) -> frozenset[str]:
    """`closing_tags` of the decoded text."""
    return frozenset(name.strip() for match in CLOSING_TAG_BYTES.finditer(data)
                     if len(name := match.group(1).decode("utf-8")) <= MAX_NAME)


def _is_blank(data: bytes, start: int, end: int) -> bool:
    """Whether `data[start:end]` decodes to white space only (str's idea of it)."""
    rest = data[start:end].strip(ASCII_BLANK)
    if not rest:
        return True
    if rest[0] < 0x80 and not 0x1C <= rest[0] <= 0x1F:
        return False
    return not rest.decode("utf-8").strip()


def _read_context_bytes(data: bytes, start: int, limit: int) -> ContextList | None:
    """`read_context` on the bytes, when it gives a list: the JSON value's end found on the
    bytes, the value alone decoded and read. Messages keep only their text."""
    while start < limit and data[start] in ASCII_BLANK:
        start += 1
    # A value that is valid JSON usually ends before the next line opening with `<`: read
    # up to there first, not to the limit, which may be the end of the file.
    next_tag = data.find(b"\n<", start, limit)
    for end in (next_tag, limit) if next_tag != -1 else (limit,):
        if (quick := _read_valid_context_bytes(data, start, end)) is not None:
            return quick
    end = _json_value_end(data, start, limit)
    if end is None:
        return None
    value = data[start:end].decode("utf-8")
    span = json_value_span(value, 0, len(value))
    if span is None:
        return None
    elements = _elements(span[1])
    if isinstance(elements, NotJson):
        return None
    return ContextList(_outline_messages([item for _, item, _ in elements], start), end)


def _read_valid_context_bytes(data: bytes, start: int, limit: int) -> ContextList | None:
    """`_read_context_bytes` for a value that is valid JSON, read in one step; None for
    any other, which the lenient reading decides."""
    if not data.startswith((b"[", b"{"), start):
        return None
    try:
        text = data[start:limit].decode("utf-8")
        value, end = LENIENT_JSON.raw_decode(text)
    except (ValueError, RecursionError):
        return None
    items = value if isinstance(value, list) else [value]
    return ContextList(_outline_messages(items, start), start + len(text[:end].encode("utf-8")))


def _outline_messages(items: list, start: int) -> list[Message]:
    """The messages of a CONTEXT list's items, with only their texts, all placed at `start`."""
    return [Message(start, _content_text(item.get("content")) if isinstance(item, dict)
                    else None, start, True) for item in items]


def _json_value_end(data: bytes, start: int, limit: int) -> int | None:
    """Where the JSON array or object at `start` ends, as `json_value_span` finds it."""
    if not data.startswith((b"[", b"{"), start):
        return None
    depth = 0
    for token in JSON_TOKEN_BYTES.finditer(data, start, limit):
        char = token.group()[:1]
        if char == b'"':
            if token.end() - token.start() == 1:
                return None
        elif char in (b"[", b"{"):
            depth += 1
        elif char in (b"]", b"}"):
            depth -= 1
            if depth == 0:
                return token.end()
    return None


def _outline_turns(data: bytes, tags: list[Tag], speakers: _Speakers,
                   prompt_actors: dict[str, tuple[str, str | None]],
                   contexts: dict[int, object]) -> list[ParsedTurn] | None:
    """`_TurnReader.read` without texts; None where it would give a notice."""
    names = set(speakers.names)
    headers = [tag for tag in tags if tag.name in names or tag.name in prompt_actors]
    if not headers:
        return None
    if not _is_blank(data, tags[0].start, headers[0].start):
        return None
    first_turn = next((tag for tag in headers if tag.name not in prompt_actors), None)
    parsed: list[ParsedTurn] = []
    model_of = speakers.model_of
    for tag, following in zip(headers, headers[1:] + [None]):
        end = following.start if following else len(data)
        if tag.name not in prompt_actors:
            parsed.append(ParsedTurn(tag.name, Role.SPOKEN, "", 0, 1, model_of(tag.name)))
            continue
        actor, tag_model = prompt_actors[tag.name]
        model = tag_model or model_of(actor)
        if tag.name.endswith("SYSTEM"):
            if not _is_blank(data, tag.body, end):
                parsed.append(ParsedTurn(actor, Role.SYSTEM, "", 0, 1, model))
            continue
        reading = contexts[tag.start]
        if reading is None:
            if not _is_blank(data, tag.body, end):
                return None
            continue
        for message in reading.messages:
            if message.text is None:
                return None
            if message.text.strip():
                parsed.append(ParsedTurn(actor, Role.CONTEXT, "", 0, 1, model))
        if not _is_blank(data, reading.end, end):
            opening = following is first_turn
            speaker = speakers.opener(first_turn.name if first_turn else None) if opening else None
            if speaker is None:
                return None
            parsed.append(ParsedTurn(speaker, Role.SPOKEN, "", 0, 1, model_of(speaker),
                                     speaker_inferred=True))
    return parsed


FORMATS = [
    Format(TEXT_FORMAT, sniff_text, load_text,
           "Format A: original dump text files (actors:/models: header, <actor> turns).",
           outline=outline_text, max_score=DECLARED_SCORE),
    Format(HTML_FORMAT, sniff_html, load_html,
           "Format A as scraped site pages: HTML with the transcript in <pre class=\"dream\">.",
           max_score=PAGE_SCORE),
]
