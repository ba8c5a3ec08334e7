"""The multi-agent GUI runner's HTML export (`conversation_full.html`, 2 to 5 agents).

Each message is a `<div class="message KIND">` holding a header and a
`<div class="content">`. The header is either `AI-2 (Claude 3 Opus)` followed by a
`<span class="timestamp">`, or, in newer exports, `<span class="ai-name">AI-2</span>
<span class="model-name">(Claude 3 Opus)</span>`. The model in parentheses belongs to the
message, not to the slot: the same `AI-2` may run different models over a conversation.

Roles, by message KIND:
- `assistant`: Role.SPOKEN, speaker `AI-2`, model `Claude 3 Opus`.
- `user`: text a human typed into the run. It steers the agents but no model said it, so
  it is Role.CONTEXT with speaker `User`.
- `system` and `agent-notification` (and any other kind): Role.SYSTEM, speaker from the
  header if there is one, else `System`.

The runner also writes into the agents' and the user's boxes; those words are Role.SYSTEM
turns with the box's speaker and model, never speech:
- in an agent's message, lines of HTTP or API errors (`Error: 404 - model not found`,
  `HTTP 503 Service Unavailable`), app status (`Status: AI-3 is unavailable`) and image
  notices (`[AI-1 generated an image]`): each run of such lines is a turn of its own, so
  a message can give a spoken turn and a system turn;
- a user box that opens with `Search results` is the echo of a web search.

Turn text is the content div's text: `<br>` and block elements become line breaks,
entities are unescaped, images (inline base64 included) and scripts give no text. Text is
not verbatim; line and column are those of the content div's start tag. A timestamp such
as `October 10, 2025 at 07:02 AM` becomes `2025-10-10T07:02:00` (the exporter writes local
time without a zone); one that does not parse gives None.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from html.parser import HTMLParser

from backrooms_scan.decode import Document
from backrooms_scan.records import Conversation, Role, SkipFile, Turn

NAME = "multiagent-html"

SNIFF_SCORE = MAX_SCORE = 0.95
TITLE_ONLY_SCORE = 0.9
CODE_FENCE = re.compile(r"^[ \t]*(?:```|~~~)", re.MULTILINE)
HEADER_WITH_MODEL = re.compile(r"^(?P<speaker>[^()]*?)\s*\((?P<model>.*)\)$")
TIMESTAMP_FORMATS = ("%B %d, %Y at %I:%M %p", "%B %d, %Y at %I:%M:%S %p", "%B %d, %Y at %H:%M")

VOID_ELEMENTS = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
)
BLOCK_ELEMENTS = frozenset(
    {
        "address", "article", "aside", "blockquote", "dd", "details", "div", "dl", "dt",
        "figcaption", "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr",
        "li", "main", "nav", "ol", "p", "pre", "section", "summary", "table", "tr", "ul",
    }
)  # fmt: skip
SILENT_ELEMENTS = frozenset({"script", "style", "template", "noscript", "svg"})
FIELD_CLASSES = ("content", "timestamp", "ai-name", "model-name", "header")
ROLE_OF_KIND = {"assistant": Role.SPOKEN, "user": Role.CONTEXT}
# The runner's own lines inside an agent's message: HTTP and API errors, app status,
# notices of the images and videos an agent made.
RUNNER_LINE = re.compile(
    r"(?:(?:API )?Error(?: code)?:? *|HTTP *)?[45]\d\d(?: -|:| [A-Z])"
    r"|Status: "
    r"|\[[^\[\]\n]* generated an? (?:image|video)\b[^\[\]\n]*\]$"
)
# What the runner echoes into a user box after a web search.
SEARCH_ECHO = re.compile(r"\[?(?:Web )?Search results\b", re.IGNORECASE)


def sniff(name: str, head_text: str) -> float:
    """0.95 for an HTML document with `class="message` divs holding `message-content` or
    `ai-name` parts; 0.9 for the runner's title and stylesheet alone."""
    if not _is_html_document(head_text):
        return 0.0
    first_message = head_text.find('class="message')
    if first_message != -1 and (
        'class="message-content"' in head_text or "ai-name" in head_text
    ):
        # A markdown document quoting an export puts its markup in a code block.
        return 0.0 if CODE_FENCE.search(head_text, 0, first_message) else SNIFF_SCORE
    # The stylesheet can fill the head before the first message appears.
    if "<title>Liminal Backrooms</title>" in head_text and ".message-content" in head_text:
        return TITLE_ONLY_SCORE
    return 0.0


def _is_html_document(head_text: str) -> bool:
    """Markup from the first character on (a BOM and blank lines aside)."""
    return head_text.lstrip("\ufeff \t\r\n").startswith("<")


def load(doc: Document) -> Iterator[Conversation]:
    """One conversation per export, one turn per message."""
    parser = MessageParser()
    try:
        parser.feed(doc.read_text())
        parser.close()
    except (AssertionError, ValueError) as error:
        doc.notices.add(f"HTML parsing stopped early: {error}")
    if not parser.messages:
        raise SkipFile('not a multi-agent export: no `<div class="message ...">` messages')
    turns = tuple(_iter_turns(doc, parser.messages))
    first_time = next((t.timestamp for t in turns if t.timestamp), None)
    yield Conversation(doc.path, doc.path, NAME, turns, timestamp=first_time)


def parse_timestamp(text: str) -> str | None:
    """`October 10, 2025 at 07:02 AM` -> `2025-10-10T07:02:00`, None when it does not parse."""
    cleaned = " ".join(text.split())
    for layout in TIMESTAMP_FORMATS:
        try:
            return datetime.strptime(cleaned, layout).isoformat()
        except ValueError:
            continue
    return None


@dataclass
class Message:
    """What one message div holds, as read from the page."""

    kind: str
    parts: dict[str, list[str]] = field(default_factory=dict)
    content_position: tuple[int, int] | None = None

    def part(self, name: str) -> str:
        return "".join(self.parts.get(name, ()))


@dataclass
class OpenElement:
    tag: str
    field: str | None = None
    is_message: bool = False
    silent: bool = False


class MessageParser(HTMLParser):
    """Collects the messages of the export; page text outside messages is ignored."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.messages: list[Message] = []
        self._stack: list[OpenElement] = []
        self._message: Message | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self._add_text("\n")
        if tag in VOID_ELEMENTS:
            self._break_line(tag)
            return
        classes = _classes(attrs)
        element = OpenElement(tag, silent=tag in SILENT_ELEMENTS)
        if tag == "div" and "message" in classes:
            self._end_message()
            self._message = Message(_kind(classes))
            element.is_message = True
        elif self._message is not None:
            element.field = next((c for c in FIELD_CLASSES if c in classes), None)
            if element.field == "content" and self._message.content_position is None:
                line, offset = self.getpos()
                self._message.content_position = (line, offset + 1)
        self._break_line(tag)
        self._stack.append(element)

    def handle_endtag(self, tag: str) -> None:
        if not any(element.tag == tag for element in self._stack):
            return
        while self._stack:
            element = self._stack.pop()
            if element.is_message:
                self._end_message()
            if element.tag == tag:
                break
        self._break_line(tag)

    def handle_data(self, data: str) -> None:
        self._add_text(data)

    def close(self) -> None:
        super().close()
        self._end_message()

    def _add_text(self, text: str) -> None:
        if self._message is None:
            return
        field_name = None
        for element in reversed(self._stack):
            if element.silent:
                return
            if field_name is None and element.field is not None:
                field_name = element.field
        if field_name is not None:
            self._message.parts.setdefault(field_name, []).append(text)

    def _break_line(self, tag: str) -> None:
        """Block boundaries inside a field become one line break, never a run of them."""
        if tag not in BLOCK_ELEMENTS or self._message is None:
            return
        field_name = next((e.field for e in reversed(self._stack) if e.field), None)
        pieces = self._message.parts.get(field_name or "", [])
        if pieces and not pieces[-1].endswith("\n"):
            pieces.append("\n")

    def _end_message(self) -> None:
        if self._message is not None:
            self.messages.append(self._message)
            self._message = None


def _classes(attrs: list[tuple[str, str | None]]) -> set[str]:
    return {name for key, value in attrs if key == "class" and value for name in value.split()}


def _kind(classes: set[str]) -> str:
    others = sorted(classes - {"message"})
    for kind in ("assistant", "user", "system", "agent-notification"):
        if kind in classes:
            return kind
    return others[0] if others else "system"


def _iter_turns(doc: Document, messages: list[Message]) -> Iterator[Turn]:
    index = 0
    for message in messages:
        if message.content_position is None:
            doc.notices.add(f"{message.kind} message without a content part was skipped")
            continue
        speaker, model = _speaker_and_model(message)
        line, column = message.content_position
        timestamp = parse_timestamp(message.part("timestamp"))
        for role, text in _parts_by_role(message):
            index += 1
            yield Turn(
                conversation=doc.path,
                index=index,
                speaker=speaker,
                role=role,
                text=text,
                source=doc.path,
                line=line,
                column=column,
                model=model,
                timestamp=timestamp,
                verbatim=False,
            )


def _parts_by_role(message: Message) -> list[tuple[Role, str]]:
    """The message's text as (role, text) turns: runner lines in an agent's message are
    split off as system turns, a search-result echo in a user box is one system turn."""
    text = message.part("content").strip()
    role = ROLE_OF_KIND.get(message.kind, Role.SYSTEM)
    if message.kind == "user" and SEARCH_ECHO.match(text):
        return [(Role.SYSTEM, text)]
    if role is not Role.SPOKEN:
        return [(role, text)]
    runs: list[tuple[Role, list[str]]] = []
    for line in text.split("\n"):
        line_role = Role.SYSTEM if RUNNER_LINE.match(line.strip()) else Role.SPOKEN
        if runs and (runs[-1][0] is line_role or not line.strip()):
            runs[-1][1].append(line)
        else:
            runs.append((line_role, [line]))
    return [(run_role, "\n".join(lines).strip()) for run_role, lines in runs]


def _speaker_and_model(message: Message) -> tuple[str, str | None]:
    """Speaker and model from the header, in either template; defaults by message kind."""
    name = message.part("ai-name").strip()
    model = _unwrap_parentheses(message.part("model-name")) or None
    if not name:
        name, header_model = _split_header(message.part("header"))
        model = model or header_model
    if message.kind == "user":
        return "User", None
    if message.kind != "assistant":
        return name or "System", model
    return name or "Assistant", model


def _unwrap_parentheses(text: str) -> str:
    """`(Claude 3.5 Sonnet (new))` -> `Claude 3.5 Sonnet (new)`: one outer pair only."""
    text = text.strip()
    if text.startswith("(") and text.endswith(")"):
        text = text[1:-1].strip()
    return text


def _split_header(header: str) -> tuple[str, str | None]:
    """`AI-2 (Claude 3 Opus)` -> (`AI-2`, `Claude 3 Opus`); the timestamp is not in `header`."""
    text = " ".join(header.split())
    match = HEADER_WITH_MODEL.match(text)
    if match:
        return match["speaker"], match["model"].strip() or None
    return text, None
