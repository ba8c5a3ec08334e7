"""Format A: Infinite Backrooms dumps as text files, and the scraped site's text and HTML pages.

A file may open with one line of scraped-site chrome (file name, "• infinite
backrooms", "Back to index", "scenario: NAME" and boilerplate run together),
then `actors:` / `models:` / `temp:` header lines, then `<X#SYSTEM>` and
`<X#CONTEXT>` prompt blocks, then turns. A turn header is a line that is
exactly `<speaker>`; the turn's text runs up to the next header.

Which `<name>` lines head a turn (the speaker rule), first that applies:
1. The names the file declares -- `actors:` and the actor part of every prompt
   tag (`<claude-explorer-claude-3-opus-20240229#SYSTEM>` -> `claude-explorer`)
   -- unless positional tags head more lines than they do.
2. Positional tags `<Claude N>` (N at most the number of actors or models, and
   at least 2): some dumps declare `actors: Culture Receiver,Culture Mind` yet
   head their turns `<Claude 1>` / `<Claude 2>`.
3. With neither (no header, or declared names that never head a turn): the two
   most frequent tag lines that occur at least twice each, alternate (the
   speaker changes at least at every other header), have no closing tag
   `</name>` in the file and are not common markup (`<system>`, `<OOC>`, ...).
Every other tag-like line (`<OOC>`, `<html>`, `</system>`, `<END OF FILE>`,
role-play names) is turn text.

Models: a declared actor takes the model at its position in `models:`;
`Claude N` takes the N-th model; otherwise the model named in the speaker's
prompt tag, if any.

Roles: a SYSTEM block gives one system turn when it is not blank; a CONTEXT
block's JSON list gives one context turn per message with text (trailing
commas allowed), or, when it is not JSON, one context turn holding the raw
block plus a notice. Text turns are verbatim slices of the decoded text; a
context message is verbatim only when its JSON string needed no escapes;
turns read from HTML are never verbatim and all sit at the `<pre>` content.

Scenario: `scenario: NAME` from the chrome line, else the file name
`conversation_<unix-ts>_scenario_<name>.txt` (a hyphen slug without spaces
becomes spaces). Timestamp: the file name's unix time as ISO 8601 UTC, given
to every turn.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from html.parser import HTMLParser
from itertools import pairwise
from typing import NamedTuple

from backrooms_scan.decode import Document
from backrooms_scan.formats import Format
from backrooms_scan.formats.positions import LineLocator, at_line_starts, first_at_line_start
from backrooms_scan.model import Conversation, Role, SkipFile, Turn

TEXT_FORMAT = "backrooms"
HTML_FORMAT = "backrooms-html"

TAG_LINE = re.compile(r"^<([^<>\n]+)>[ \t]*$", re.MULTILINE)
HEADER_LINE = re.compile(r"(actors|models|temp)[ \t]*:(.*)", re.IGNORECASE)
PROMPT_TAG = re.compile(r"(.+)#(SYSTEM|CONTEXT)")
POSITIONAL_TAG = re.compile(r"Claude (\d+)")
MODEL_SUFFIX = re.compile(
    r"-((?:claude|gpt|chatgpt|o\d|gemini|llama|mistral|mixtral|hermes|grok|deepseek|qwen|command)"
    r"[\w.:\-]*)$",
    re.IGNORECASE,
)
FILE_NAME = re.compile(r"conversation_(\d+)_scenario_(.+?)(?:\.txt)?(?:\.html?)?$", re.IGNORECASE)
FILE_NAME_IN_TEXT = re.compile(r"conversation_(\d+)_scenario_(.+?)\.txt", re.IGNORECASE)
CHROME_MARK = re.compile(r"infinite backrooms|back to index", re.IGNORECASE)
CHROME_SCENARIO = re.compile(r"scenario:[ \t]*", re.IGNORECASE)
BOILERPLATE = re.compile(r"The following |This is an? |An automated |experiment by ")
RUN_TOGETHER = re.compile(r"(?<=[a-z0-9.!?)])(?=[A-Z][a-z])")
WHITESPACE = re.compile(r"\s*")
CONTENT_STRING = re.compile(r'"content"\s*:\s*"')
MARKUP_NAMES = frozenset(
    {"system", "ooc", "html", "head", "body", "pre", "code", "p", "br", "hr", "dream",
     "end of file", "eof", "ctrl-c", "^c"}
)

SNIFF_HEADER = re.compile(r"^(?:actors|models)[ \t]*:", re.MULTILINE)
SNIFF_PROMPT_TAG = re.compile(r"^<[^<>\n]+#(?:SYSTEM|CONTEXT)>[ \t]*$", re.MULTILINE)
FORK_HEADER = re.compile(r"^###[ \t]+\S.*?[ \t]\d+[ \t]+###[ \t]*$", re.MULTILINE)
HTML_START = re.compile(r"\s*<(?:!doctype|html|head|body)\b", re.IGNORECASE)
DREAM_PRE = re.compile(r"""<pre\b[^>]*\bclass\s*=\s*["']?[^"'>]*\bdream""", re.IGNORECASE)
SITE_TITLE = re.compile(r"<title>[^<]*infinite backrooms\s*</title>", re.IGNORECASE)

Note = Callable[[str, "int | None"], None]


# ---------------------------------------------------------------- sniffing


def sniff_text(name: str, head: str) -> float:
    """How sure we are that a text file is a format-A dump (0.9 declared, 0.5 tag lines only)."""
    first = head.lstrip()[:1]
    if first in ("{", "[") and first:
        return 0.0
    if HTML_START.match(head) or DREAM_PRE.search(head):
        return 0.0
    if first_at_line_start(SNIFF_HEADER, head) or first_at_line_start(SNIFF_PROMPT_TAG, head):
        return 0.9
    if first_at_line_start(FORK_HEADER, head):
        return 0.0
    if FILE_NAME.search(name):
        return 0.9
    names = [name for _, _, name in tag_lines(head)]
    return 0.5 if recurring_speakers(names, head) else 0.0


def sniff_html(name: str, head: str) -> float:
    """A site page: `<pre class="dream">` or a title ending in "infinite backrooms"."""
    return 0.95 if DREAM_PRE.search(head) or SITE_TITLE.search(head) else 0.0


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

    def note(message: str, line: int | None) -> None:
        doc.notices.add(message, None if line is None else pre_line + line - 1)

    transcript = parse_transcript("".join(page.dream_parts), note)
    pieces = [
        replace(piece, line=pre_line, column=pre_column, verbatim=False)
        for piece in transcript.pieces
    ]
    transcript = replace(transcript, pieces=pieces)
    title_name = "".join(page.title_parts).strip()
    yield _conversation(doc.path, HTML_FORMAT, transcript, title_name, doc.name)


# ---------------------------------------------------------------- the transcript


@dataclass(slots=True)
class Piece:
    """A turn before it knows its conversation: what a parse of the text yields."""

    speaker: str
    role: Role
    text: str
    line: int
    column: int = 1
    model: str | None = None
    verbatim: bool = True


@dataclass(frozen=True, slots=True)
class Transcript:
    """Everything read from one format-A text: turns in order plus what the chrome said."""

    pieces: list[Piece] = field(default_factory=list)
    scenario: str | None = None
    file_name: str | None = None
    actors: tuple[str, ...] = ()
    models: tuple[str, ...] = ()


class Tag(NamedTuple):
    """A line that is exactly `<name>`: where it starts and ends, and the name."""

    start: int
    end: int
    name: str


@dataclass(frozen=True, slots=True)
class _Header:
    actors: list[str]
    models: list[str]
    chrome: str | None
    unread_line: int | None


def tag_lines(text: str) -> list[Tag]:
    """Every line that is exactly `<name>`, in order."""
    return [Tag(start, found.end(), found.group(1).strip())
            for start, found in at_line_starts(TAG_LINE, text)]


def parse_transcript(text: str, note: Note) -> Transcript:
    """Split a format-A text into system, context and spoken pieces (see the module rules)."""
    tags = tag_lines(text)
    header = _read_header(text[: tags[0].start if tags else len(text)])
    prompts = {name: PROMPT_TAG.fullmatch(name) for name in dict.fromkeys(tag.name for tag in tags)}
    turn_names = [tag.name for tag in tags if prompts[tag.name] is None]
    prompt_actors = {
        name: _split_actor_model(match.group(1).strip(), header.models, turn_names)
        for name, match in prompts.items()
        if match
    }
    declared = header.actors + [actor for actor, _ in prompt_actors.values()]
    speakers = choose_speakers(turn_names, declared, len(header.models), text)
    prompt_models = {actor: model for actor, model in prompt_actors.values() if model}

    models_by_speaker: dict[str, str | None] = {}

    def model_of(speaker: str) -> str | None:
        if speaker not in models_by_speaker:
            models_by_speaker[speaker] = _model_for(speaker, header.actors, header.models,
                                                    prompt_models)
        return models_by_speaker[speaker]

    boundaries = [tag for tag in tags if tag.name in speakers or tag.name in prompt_actors]
    locate = LineLocator(text)
    first_body = boundaries[0].start if boundaries else len(text)
    if header.unread_line is not None:
        note("text before the first turn is not part of any turn; not scanned", header.unread_line)
    elif tags and text[tags[0].start : first_body].strip():
        note("text before the first turn is not part of any turn; not scanned",
             locate(tags[0].start)[0])
    if not boundaries:
        note("no turn headers found", None)

    pieces: list[Piece] = []
    for tag, following in zip(boundaries, boundaries[1:] + [None]):
        # The next line, or just after the tag when it ends the file.
        body_start = min(tag.end + 1, len(text))
        body_line, body_column = locate(body_start)
        body = text[body_start : following.start if following else len(text)].rstrip()
        if tag.name not in prompt_actors:
            pieces.append(Piece(tag.name, Role.SPOKEN, body, body_line, body_column,
                                model_of(tag.name)))
            continue
        actor, tag_model = prompt_actors[tag.name]
        model = tag_model or model_of(actor)
        tag_line = body_line - 1 if body_start > tag.end else body_line
        if tag.name.endswith("#SYSTEM"):
            if body.strip():
                pieces.append(Piece(actor, Role.SYSTEM, body, body_line, body_column, model))
        else:
            pieces.extend(_context_pieces(body, body_start, tag_line, actor, model, locate, note))

    chrome_name = FILE_NAME_IN_TEXT.search(header.chrome) if header.chrome else None
    return Transcript(
        pieces=pieces,
        scenario=_chrome_scenario(header.chrome, chrome_name) if header.chrome else None,
        file_name=chrome_name.group(0) if chrome_name else None,
        actors=tuple(header.actors),
        models=tuple(header.models),
    )


def choose_speakers(turn_names: list[str], declared: list[str], model_count: int, text: str) -> set[str]:
    """The tag names that head turns, by the module's speaker rule."""
    counts = Counter(turn_names)
    named = {name for name in declared if not POSITIONAL_TAG.fullmatch(name)}
    highest_position = max(2, len(named), model_count)
    positional = {
        name for name in counts
        if (match := POSITIONAL_TAG.fullmatch(name)) and 1 <= int(match.group(1)) <= highest_position
    }
    named_count = sum(counts[name] for name in named)
    positional_count = sum(counts[name] for name in positional)
    if declared and positional_count > named_count:
        return positional
    if named_count:
        return named
    return recurring_speakers(turn_names, text)


def recurring_speakers(turn_names: list[str], text: str) -> set[str]:
    """Two actor-like tag names that recur and alternate, for files that declare nobody."""
    counts = Counter(
        name for name in turn_names
        if name.lower() not in MARKUP_NAMES and name[0].isalnum() and not PROMPT_TAG.fullmatch(name)
    )
    candidates = [
        name for name, count in counts.most_common()
        if count >= 2 and f"</{name}>" not in text
    ][:2]
    if len(candidates) < 2:
        return set()
    sequence = [name for name in turn_names if name in candidates]
    changes = sum(a != b for a, b in pairwise(sequence))
    return set(candidates) if 2 * changes >= len(sequence) - 1 else set()


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
    return bool(CHROME_MARK.search(line) or FILE_NAME_IN_TEXT.match(line))


def _chrome_scenario(chrome: str, chrome_name: re.Match | None) -> str | None:
    """`scenario: NAME` from the chrome line, cut where the run-together boilerplate starts."""
    match = CHROME_SCENARIO.search(chrome, chrome_name.end() if chrome_name else 0)
    if match is None:
        return None
    after = chrome[match.end() :]
    if chrome_name:
        slug = _deslug(chrome_name.group(2))
        if after[: len(slug)].lower().replace("-", " ") == slug.lower():
            return after[: len(slug)]
    end = BOILERPLATE.search(after) or RUN_TOGETHER.search(after)
    scenario = (after[: end.start()] if end else after).strip()
    return scenario or None


def _split_actor_model(tag_actor: str, models: list[str], turn_names: list[str]) -> tuple[str, str | None]:
    """`claude-explorer-claude-3-opus-20240229` -> (`claude-explorer`, `claude-3-opus-20240229`)."""
    for model in models:
        if tag_actor.endswith("-" + model) and len(tag_actor) > len(model) + 1:
            return tag_actor[: -len(model) - 1], model
    if tag_actor in turn_names:
        return tag_actor, None
    prefixes = [name for name in set(turn_names) if tag_actor.startswith(name + "-")]
    if prefixes:
        actor = max(prefixes, key=len)
        return actor, tag_actor[len(actor) + 1 :]
    match = MODEL_SUFFIX.search(tag_actor)
    if match and match.start() > 0:
        return tag_actor[: match.start()], match.group(1)
    return tag_actor, None


def _model_for(
    speaker: str, actors: list[str], models: list[str], prompt_models: dict[str, str]
) -> str | None:
    if speaker in actors:
        position = actors.index(speaker)
        if position < len(models):
            return models[position]
    positional = POSITIONAL_TAG.fullmatch(speaker)
    if positional and 1 <= int(positional.group(1)) <= len(models):
        return models[int(positional.group(1)) - 1]
    if speaker in prompt_models:
        return prompt_models[speaker]
    return models[0] if len(models) == 1 else None


# ---------------------------------------------------------------- CONTEXT blocks


def _context_pieces(
    body: str, body_start: int, tag_line: int, actor: str, model: str | None,
    locate: LineLocator, note: Note,
) -> list[Piece]:
    if not body.strip():
        return []
    messages = parse_lenient_json_list(body)
    if messages is None:
        note(f"CONTEXT block at line {tag_line} is not valid JSON; kept as raw text", tag_line)
        return [Piece(actor, Role.CONTEXT, body, tag_line + 1, 1, model)]
    pieces = []
    for offset, message in messages:
        content = message.get("content") if isinstance(message, dict) else None
        text = _content_text(content)
        if text is None:
            note("CONTEXT message without text content; skipped",
                 locate(body_start + offset)[0])
            continue
        if not text.strip():
            continue
        literal = _literal_content_offset(body, offset, text) if isinstance(content, str) else None
        line, column = locate(body_start + (offset if literal is None else literal))
        pieces.append(Piece(actor, Role.CONTEXT, text, line, column, model, literal is not None))
    return pieces


def parse_lenient_json_list(block: str) -> list[tuple[int, object]] | None:
    """(offset, value) of each element of a JSON list that may end with a trailing comma; None if not one."""
    decoder = json.JSONDecoder()
    position = WHITESPACE.match(block).end()
    if not block.startswith("[", position):
        return None
    position = WHITESPACE.match(block, position + 1).end()
    items: list[tuple[int, object]] = []
    while not block.startswith("]", position):
        try:
            value, end = decoder.raw_decode(block, position)
        except (ValueError, RecursionError):
            return None
        items.append((position, value))
        position = WHITESPACE.match(block, end).end()
        if block.startswith(",", position):
            position = WHITESPACE.match(block, position + 1).end()
        elif not block.startswith("]", position):
            return None
    return items if not block[position + 1 :].strip() else None


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


def _literal_content_offset(block: str, message_offset: int, text: str) -> int | None:
    """Where `text` sits unescaped in the block as the message's content string, if it does."""
    key = CONTENT_STRING.search(block, message_offset)
    if key is None:
        return None
    start = key.end()
    if block.startswith(text, start) and block.startswith('"', start + len(text)):
        return start
    return None


# ---------------------------------------------------------------- small parts


class _DreamPage(HTMLParser):
    """Collects the page title and the text of the first `<pre class="dream">`."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.title_parts: list[str] = []
        self.dream_parts: list[str] = []
        self.dream_start: tuple[int, int] | None = None
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
            self.dream_parts.append("\n")

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
            self.dream_parts.append(data)


def _file_name_info(*names: str | None) -> tuple[str | None, str | None]:
    """(timestamp, scenario) from the first name shaped `conversation_<ts>_scenario_<name>.txt`."""
    for name in names:
        match = FILE_NAME_IN_TEXT.search(name or "") or FILE_NAME.search(name or "")
        if match:
            return _iso_timestamp(match.group(1)), _deslug(match.group(2).strip())
    return None, None


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
    turns = tuple(
        Turn(
            conversation=path, index=index, speaker=piece.speaker, role=piece.role,
            text=piece.text, source=path, line=piece.line, column=piece.column,
            model=piece.model, scenario=scenario, timestamp=timestamp, verbatim=piece.verbatim,
        )
        for index, piece in enumerate(transcript.pieces, 1)
    )
    return Conversation(
        id=path, source=path, format=fmt, turns=turns, scenario=scenario, timestamp=timestamp
    )


FORMATS = [
    Format(TEXT_FORMAT, sniff_text, load_text,
           "Format A: original dump text files (actors:/models: header, <actor> turns)."),
    Format(HTML_FORMAT, sniff_html, load_html,
           "Format A as scraped site pages: HTML with the transcript in <pre class=\"dream\">."),
]
