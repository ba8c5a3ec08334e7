"""Chat JSON / JSONL exports (format C): ShareGPT, OpenAI, archive and experiment logs.

Which object is a conversation: ShareGPT (`conversations` of `from`/`value`),
OpenAI and archive exports (`messages` of `role`/`content`) keep their own rules;
any other object holding a message list is read by the generic reader: a list
under a key named like one (`messages`, `exchanges`, `conversation_history`,
`turns`, `dialogue`...) with records that have a speaker field (`role`, `from`,
`speaker`, `agent`, `name`, `author`, `model`) and a text field (`content`,
`text`, `message`, `value`, `response`, `output`; a string or a list of parts).
Roles in the generic reader: a record is spoken, except a `system`/`developer`
speaker or a record the runner marked as failed (`stop_reason`/`finish_reason`
`error` or `timeout`, or an `error` field), which is a `system` turn.
`input_messages` are what the speaker was fed: earlier turns replayed and the
seed prompt. Each of their texts not seen before in the conversation is one
`context` turn of that speaker, so a replayed turn is never counted twice and
the seed stays searchable. A record's `system_prompt` is a `system` turn (once),
and an `analysis_report` written about the conversation a `system` turn at its end.
Models: the record's `model_id`/`model_name`/`model` (a one-character `model: A`
is a speaker label), else the speaker's entry in `participants` or `models`, or
`model_<x>` for a speaker ending in the label x (`A`, `Claude_A` -> `model_a`),
else the conversation's one `model`. Scenario (`scenario`, `experiment_tag`,
`template`) and start time (`started_at`, `timestamp`, `created_at`, `start`,
`start_time`) come from the object or its `metadata`/`experiment_info`/`meta`/
`info` sub-object. A file whose records (JSONL lines, array items) are each one
message is one conversation (see `_MessageStream`). A file whose values hold no
message list is "not a transcript".

One loader reads a single JSON document, a top-level array of conversations
(streamed with ijson, memory bounded by one conversation; an item over the record
limit is read past and skipped) and JSONL (one conversation per line, read line by
line). Which of them a file is, is decided
from its content, not its name.

Positions: JSON strings are not verbatim source text, so every turn carries
only where its conversation record starts. For JSONL that is the record's
line (column 1); for a JSON document (or several concatenated) the line and
column where the object opens; for an element of a top-level array it is
line 1, column 1, because ijson does not report where an item starts.
"""

from __future__ import annotations

import codecs
import io
import json
import operator
import re
import sys
from collections.abc import Iterable, Iterator
from contextlib import suppress
from dataclasses import dataclass, replace
from functools import lru_cache
from itertools import accumulate, chain, count, islice
from typing import BinaryIO

import ijson

from backrooms_scan.decode import Document, sniff_encoding
from backrooms_scan.json_layout import JsonLayout
from backrooms_scan.limits import format_size
from backrooms_scan.records import Conversation, Role, SkipFile, Turn

NAME = "json"
# A JSON opening scores OPENING_SCORE, and NAMED_SCORE under a JSON file name.
OPENING_SCORE = 0.8
NAMED_SCORE = MAX_SCORE = 0.9

JSON_SUFFIXES = (".json", ".jsonl", ".ndjson")
# An array or object whose first element could only be JSON; keeps `[21:04:55] Alice: hi`
# and `{Claude 1}` lines for the plain-text formats.
_JSON_OPENING = re.compile(
    r'\[\s*(?:[\[\]{"]|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?\s*[,\]]|true\b|false\b|null\b)'
    r'|\{\s*["}]'
)

# A file with none of its first records conversation-shaped is not read further.
EARLY_CHECK = 10
CHUNK_SIZE = 64 * 1024
# The most a streamed array gives its parser at once (the parser holds a buffer this
# size). The parser reads a string again from its start each time more of it comes, so
# the bytes given grow with the item under way, up to this: a string of 128 MB then
# takes 4 seconds to parse, not a minute.
LONG_ITEM_READ = 2 * 1024 * 1024
# After an item longer than this, a streamed array is parsed on by a new parser (see
# `_array_records`).
LONG_ITEM = 4 * 1024 * 1024
# How much of a streamed array is kept to point at a parse error by line and column.
ERROR_CAPTURE_LIMIT = 1024 * 1024
# JSON nested deeper than this is refused before it is parsed: the streaming parser's
# memory grows with the square of the depth (gigabytes for 40,000 levels), and Python's
# own parser gives up at about 1,000.
MAX_NESTING = 512
# Python refuses to read integers longer than this (None where it has no such limit).
INT_DIGITS_LIMIT = getattr(sys, "get_int_max_str_digits", lambda: None)() or None

SYSTEM_ROLES = frozenset({"system", "developer"})
TIMESTAMP_KEYS = ("started_at", "timestamp", "created_at")

_JSON_WHITESPACE = re.compile(r"[ \t\r\n]*")


def sniff(name: str, head_text: str) -> float:
    """0.8 when the content opens like a JSON object or array, 0.9 with a JSON file name."""
    head = head_text.lstrip("\ufeff \t\r\n")
    if not _JSON_OPENING.match(head[:400]):
        return 0.0
    return NAMED_SCORE if name.lower().endswith(JSON_SUFFIXES) else OPENING_SCORE


def load(doc: Document, layout: JsonLayout | None = None) -> Iterator[Conversation]:
    """The conversations of a JSON document, top-level array or JSONL file.

    With a user-declared `layout`, each object is read by it first, and by the
    built-in readers when its message list is not where the layout says.
    Raises SkipFile when the file holds no conversation-shaped object, or is
    broken JSON before any conversation was read.
    """
    encoding, bom = sniff_encoding(doc.head)
    prefix, stream = _opening_bytes(doc.stream, encoding, bom)
    checked = _Utf8Check(stream, bom if encoding == "utf-8" else 0)
    checked.feed(prefix)
    stream = io.BufferedReader(checked, CHUNK_SIZE)
    first = prefix.lstrip()[:1]
    if first == b"[":
        records = _array_records(prefix, stream, doc.max_record)
        yield from _conversations(doc, records, always_numbered=True, layout=layout)
    elif first == b"{":
        records = _object_records(prefix, stream, doc.max_record)
        yield from _conversations(doc, records, always_numbered=False, layout=layout)
    elif not first:
        raise SkipFile("empty file")
    else:
        raise SkipFile("not a transcript")
    if checked.first_bad is not None:
        doc.notices.add(f"invalid UTF-8 at byte {checked.first_bad}; decoded with replacement")


class _Utf8Check(io.RawIOBase):
    """Passes bytes through unchanged, noting where the first invalid UTF-8 byte is."""

    def __init__(self, stream: BinaryIO, start: int):
        self._stream = stream
        self._decoder: codecs.IncrementalDecoder | None = codecs.getincrementaldecoder("utf-8")()
        self._offset = start  # bytes fed so far, counted from the start of the file
        self.first_bad: int | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        data = self._stream.read(len(buffer))
        buffer[: len(data)] = data
        self.feed(data, final=not data)
        return len(data)

    def feed(self, data: bytes, final: bool = False) -> None:
        if self._decoder is None:
            return
        pending = len(self._decoder.getstate()[0])
        try:
            self._decoder.decode(data, final)
        except UnicodeDecodeError as error:
            self.first_bad = self._offset - pending + error.start
            self._decoder = None
        self._offset += len(data)


# --- turning one decoded object into a conversation -------------------------------------


def conversation_from_object(
    value: object, conversation_id: str, source: str, line: int = 1, column: int = 1,
    raw_line: str | None = None, layout: JsonLayout | None = None,
) -> Conversation | None:
    """The conversation held by one JSON object (see `messages_of`), else None.

    With `raw_line` (the JSONL line the object was read from), a message whose JSON
    string needed no escapes is placed exactly, so its hits get their own columns.
    """
    if not isinstance(value, dict):
        return None
    info = _ConversationInfo.of(value)
    said = _layout_messages(value, layout, info) if layout is not None else None
    if said is not None:
        info, conversation_id = _declared_info(value, layout, info, source, conversation_id)
    else:
        said = messages_of(value, info)
    if said is None:
        return None
    placed = _Placer(raw_line)
    turns = tuple(
        _turn(message, index, conversation_id, source, line, info,
              placed.position(message.text, column))
        for index, message in enumerate(said, start=1)
    )
    return Conversation(
        id=conversation_id, source=source, format=NAME, turns=turns,
        scenario=info.scenario, timestamp=info.started,
    )


def _turn(message: _Message, index: int, conversation_id: str, source: str, line: int,
          info: _ConversationInfo, position: dict) -> Turn:
    return Turn(
        conversation=conversation_id, index=index, speaker=message.speaker,
        role=message.role, text=message.text, source=source, line=line,
        model=message.model, scenario=info.scenario,
        timestamp=message.timestamp or info.started, **position,
    )


# The characters a JSON string cannot hold unescaped.
_ESCAPED_IN_JSON = re.compile(r'["\\\x00-\x1f]')


class _Placer:
    """Finds message texts in their raw JSONL line, in order, where they are written as is."""

    def __init__(self, raw_line: str | None):
        self._raw = raw_line
        self._cursor = 0

    def position(self, text: str, column: int) -> dict:
        if self._raw is None or not text or _ESCAPED_IN_JSON.search(text):
            return {"column": column, "verbatim": False}
        found = self._quoted(text)
        if found < 0:
            return {"column": column, "verbatim": False}
        self._cursor = found + len(text) + 1
        return {"column": found + 1, "verbatim": True}

    def _quoted(self, text: str) -> int:
        """Where `text` starts in the line with a quote on either side, from the cursor on;
        -1 if nowhere (found without copying the text into a quoted one)."""
        raw, found = self._raw, self._cursor + 1
        while (found := raw.find(text, found)) >= 0:
            if raw.startswith('"', found - 1) and raw.startswith('"', found + len(text)):
                return found
            found += 1
        return -1


@dataclass(frozen=True, slots=True)
class _Message:
    speaker: str
    role: Role
    text: str
    model: str | None
    timestamp: str | None = None


def is_conversation(value: object) -> bool:
    """Whether a decoded JSON value holds a list of messages (see `messages_of`)."""
    return messages_of(value) is not None


def messages_of(value: object, info: _ConversationInfo | None = None) -> Iterator[_Message] | None:
    """The messages of a conversation object, in order; None when it holds no message list.

    ShareGPT (`conversations` of `from`/`value`), OpenAI and archive (`messages` of
    `role`/`content`, rounds flattened, `scenario.system_prompts` first) keep their
    own rules; any other object is read by the generic reader (`_generic_messages`).
    """
    if not isinstance(value, dict):
        return None
    info = info or _ConversationInfo.of(value)
    sharegpt = _message_list(value.get("conversations"), ("from", "role"))
    if sharegpt is not None:
        return _sharegpt_messages(info, sharegpt)
    messages = _message_list(value.get("messages"), ("role",))
    if messages is not None:
        return chain(_archive_system_prompts(value, info), _openai_messages(info, messages))
    records = _generic_message_list(value)
    if records is not None:
        return _generic_messages(value, info, records)
    return None


def _sharegpt_messages(info: _ConversationInfo, messages: list[dict]) -> Iterator[_Message]:
    """ShareGPT `from`/`value` messages (some exports write `role`/`content` instead)."""
    for message in messages:
        speaker = _speaker(message.get("from", message.get("role")))
        yield _Message(
            speaker,
            Role.SYSTEM if speaker == "system" else Role.SPOKEN,
            content_text(message["value"] if "value" in message else message.get("content")),
            info.model_for(message, speaker),
            _timestamp_of(message),
        )


def _openai_messages(info: _ConversationInfo, messages: list[dict]) -> Iterator[_Message]:
    """OpenAI-style messages; in archive exports `role` is the actor, its model in participants."""
    for message in messages:
        role = _speaker(message.get("role"))
        yield _Message(
            _text_or_none(message.get("name")) or role,
            Role.SYSTEM if role in SYSTEM_ROLES else Role.SPOKEN,
            content_text(message.get("content")),
            info.model_for(message, role),
            _timestamp_of(message),
        )


def _archive_system_prompts(conversation: dict, info: _ConversationInfo) -> Iterator[_Message]:
    scenario = conversation.get("scenario")
    prompts = scenario.get("system_prompts") if isinstance(scenario, dict) else None
    if not isinstance(prompts, dict):
        return
    for actor, prompt in prompts.items():
        yield _Message(str(actor), Role.SYSTEM, content_text(prompt), info.model_for({}, str(actor)))


# --- the generic reader: any object holding a list of message-like records --------------

# A message list is a list under a key named like one, holding at least one record
# with a speaker field and a text field. The first key of each tuple present wins.
MESSAGE_LIST_KEY = re.compile(
    r"(?:^|_)(?:messages?|conversations?|history|exchanges?|turns?|dialog(?:ue)?s?"
    r"|transcripts?|chat|utterances?)$",
    re.IGNORECASE,
)
TEXT_KEYS = ("content", "text", "message", "value", "response", "output")
SPEAKER_KEYS = ("role", "from", "speaker", "agent", "name", "author", "model")
# A file of records that are each one message needs a speaker key no other kind of
# record uses (`name`/`value` pairs are configuration as often as speech).
STREAM_SPEAKER_KEYS = frozenset(SPEAKER_KEYS) - {"name"}
# A record's texts that were fed to its speaker, not said by it: earlier turns
# replayed, or the seed prompt.
REPLAY_KEYS = ("input_messages",)
PROMPT_KEYS = ("system_prompt",)
# Texts written about the conversation after it ended.
REPORT_KEYS = ("analysis_report", "analysis")
# How a runner marks a record whose text is its own error message, not the model's.
RUNNER_STOPS = frozenset({"error", "timeout"})
STOP_KEYS = ("stop_reason", "finish_reason")


def _generic_message_list(value: dict) -> list[dict] | None:
    for key, items in value.items():
        if isinstance(items, list) and MESSAGE_LIST_KEY.search(str(key)):
            records = _flattened_dicts(items)
            if any(_speaker_key(record) and _text_key(record) for record in records):
                return records
    return None


def _generic_messages(
    conversation: dict, info: _ConversationInfo, records: list[dict]
) -> Iterator[_Message]:
    """Each record's speech; its replayed input as `context` turns, each text once.

    A replayed text already seen in the conversation (an earlier response, or the
    same seed prompt fed again) is not repeated, so nothing is counted twice.
    """
    seen: set[str] = set()
    for record in records:
        yield from _record_messages(record, info, seen)
    for key in REPORT_KEYS:
        report = content_text(conversation.get(key))
        if report.strip():
            yield _Message(key, Role.SYSTEM, report, None)


def _record_messages(record: dict, info: _ConversationInfo, seen: set[str]) -> Iterator[_Message]:
    """One record's messages; `seen` holds the texts of the conversation so far."""

    def first_time(text: str) -> bool:
        key = text.strip()
        if not key or key in seen:
            return False
        seen.add(key)
        return True

    speaker_key = _speaker_key(record)
    if speaker_key is None and _text_key(record) is None and not _runner_error(record):
        return  # a record of the runner's bookkeeping, holding no text
    speaker = _speaker(record.get(speaker_key)) if speaker_key else "unknown"
    model = info.model_for(record, speaker, speaker_key)
    when = _timestamp_of(record)
    for key in PROMPT_KEYS:
        prompt = content_text(record.get(key))
        if first_time(prompt):
            yield _Message(speaker, Role.SYSTEM, prompt, model, when)
    for key in REPLAY_KEYS:
        for replayed in _flattened(record.get(key)):
            text = content_text(_text_of(replayed) if isinstance(replayed, dict) else replayed)
            if first_time(text):
                yield _Message(speaker, Role.CONTEXT, text, model, when)
    error = _runner_error(record)
    text = _text_of(record)
    text = content_text(text) if text is not None else error or ""
    first_time(text)
    runner_or_prompt = error is not None or speaker in SYSTEM_ROLES
    yield _Message(speaker, Role.SYSTEM if runner_or_prompt else Role.SPOKEN, text, model, when)


def is_message_record(value: object) -> bool:
    """Whether a top-level value is one message (a speaker and a text), not a conversation."""
    if not isinstance(value, dict) or (_text_key(value) is None and not _runner_error(value)):
        return False
    return _speaker_key(value) in STREAM_SPEAKER_KEYS


class _MessageStream:
    """The message records of a file (JSONL lines or array items): one conversation.

    Records before the first message that are not conversations are its header:
    their keys give the models, scenario and start time, as metadata does.
    """

    def __init__(self, path: str, headers: list[dict]):
        self.path = path
        self.info = _ConversationInfo.of({key: value for header in headers
                                          for key, value in header.items()})
        self.turns: list[Turn] = []
        self._seen: set[str] = set()

    def add(self, record: _Record) -> bool:
        """Append the record's turns if it is a message; whether it was one."""
        if not is_message_record(record.value):
            return False
        placed = _Placer(record.raw)
        for message in _record_messages(record.value, self.info, self._seen):
            self.turns.append(_turn(message, len(self.turns) + 1, self.path, self.path,
                                    record.line, self.info,
                                    placed.position(message.text, record.column)))
        return True

    def conversation(self) -> Conversation:
        return Conversation(id=self.path, source=self.path, format=NAME, turns=tuple(self.turns),
                            scenario=self.info.scenario, timestamp=self.info.started)


def _speaker_key(record: dict) -> str | None:
    return next((key for key in SPEAKER_KEYS if _text_or_none(record.get(key))), None)


def _text_key(record: dict) -> str | None:
    return next((key for key in TEXT_KEYS if isinstance(record.get(key), (str, list, dict))), None)


def _text_of(record: dict) -> object:
    key = _text_key(record)
    return None if key is None else record[key]


def _runner_error(record: dict) -> str | None:
    """The runner's error text when the record is one, '' when its own text is the error."""
    error = record.get("error")
    if isinstance(error, str) and error.strip():
        return error
    if error or any(record.get(key) in RUNNER_STOPS for key in STOP_KEYS):
        return ""
    return None


def _flattened(value: object) -> list:
    if not isinstance(value, list):
        return []
    return list(chain.from_iterable(item if isinstance(item, list) else (item,) for item in value))


def _flattened_dicts(value: list) -> list[dict]:
    return [item for item in _flattened(value) if isinstance(item, dict)]


# --- a user-declared layout -----------------------------------------------------------


def _layout_messages(
    conversation: dict, layout: JsonLayout, info: _ConversationInfo
) -> Iterator[_Message] | None:
    """The messages where the layout says they are; None when its list is not there."""
    found = layout.messages.find(conversation)
    if not isinstance(found, list):
        return None
    return _declared_messages(conversation, layout, info, _flattened_dicts(found))


def _declared_messages(
    conversation: dict, layout: JsonLayout, info: _ConversationInfo, messages: list[dict]
) -> Iterator[_Message]:
    """Each message read by the layout; a model or time it does not place is looked
    for as the built-in readers do."""
    system = frozenset(layout.system_speakers)

    def at(path, message: dict) -> object:
        return None if path is None else path.find(conversation if path.from_record else message)

    for message in messages:
        speaker = _speaker(_scalar_text(at(layout.speaker, message)))
        model = at(layout.model, message)
        if isinstance(model, dict):
            model = model.get(speaker)
        model = _scalar_text(model) if layout.model else info.model_for(message, speaker)
        when = at(layout.timestamp, message) if layout.timestamp else _timestamp_of(message)
        yield _Message(
            speaker,
            Role.SYSTEM if speaker in system else Role.SPOKEN,
            content_text(at(layout.text, message)),
            model,
            _scalar_text(when),
        )


def _declared_info(
    conversation: dict, layout: JsonLayout, info: _ConversationInfo, source: str,
    conversation_id: str,
) -> tuple[_ConversationInfo, str]:
    """The scenario, start time and id the layout declares, over the guessed ones."""
    def declared(path) -> str | None:
        return None if path is None else _scalar_text(path.find(conversation))

    started = declared(layout.timestamp) if layout.timestamp and layout.timestamp.from_record \
        else None
    name = declared(layout.conversation)
    info = replace(info, scenario=declared(layout.scenario) or info.scenario,
                   started=started or info.started)
    return info, (f"{source}#{name}" if name else conversation_id)


def _scalar_text(value: object) -> str | None:
    """A string as is, a number as written; None for anything else or an empty string."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return str(value)
    return _text_or_none(value)


# --- what a conversation object says about itself ------------------------------------

METADATA_KEYS = ("metadata", "experiment_info", "meta", "info")
START_KEYS = (*TIMESTAMP_KEYS, "start", "start_time")
SCENARIO_KEYS = ("scenario", "experiment_tag", "template")
MODEL_KEYS = ("model_id", "model_name")
# `model: A` names a position, not a model.
POSITIONAL_LABEL = re.compile(r"[A-Za-z0-9]")
SPEAKER_SUFFIX = re.compile(r"(?:^|[\s_-])([A-Za-z0-9])$")


@dataclass(frozen=True, slots=True)
class _ConversationInfo:
    """Scenario, start time and models, from the object and its metadata sub-objects."""

    scenario: str | None
    started: str | None
    model: str | None
    models: dict[str, str]  # by speaker: `participants`, `models`, `model_a`/`model_b`...

    @classmethod
    def of(cls, value: dict) -> _ConversationInfo:
        places = [value, *(value[key] for key in METADATA_KEYS if isinstance(value.get(key), dict))]
        scenario = next((name for place in places for key in SCENARIO_KEYS
                         if (name := _scenario_name(place.get(key)))), None)
        started = next((when for place in places if (when := _timestamp_of(place, START_KEYS))),
                       None)
        model = next((name for place in places if (name := _text_or_none(place.get("model")))),
                     None)
        models: dict[str, str] = {}
        for place in reversed(places):
            for key in ("participants", "models"):
                if isinstance(place.get(key), dict):
                    models.update(_named_models(place[key]))
            models.update({key[len("model_"):].lower(): name for key, name in place.items()
                           if key.startswith("model_") and _text_or_none(name)})
        return cls(scenario, started, model, models)

    def model_for(self, record: dict, speaker: str, speaker_key: str | None = None) -> str | None:
        """The model of a message: its own, its speaker's, or the conversation's one model."""
        own_keys = MODEL_KEYS if speaker_key == "model" else (*MODEL_KEYS, "model")
        own = next((name for key in own_keys if (name := _text_or_none(record.get(key)))), None)
        if own:
            return own
        if speaker_key == "model" and not POSITIONAL_LABEL.fullmatch(speaker):
            return speaker
        suffix = SPEAKER_SUFFIX.search(speaker)
        return (self.models.get(speaker)
                or (self.models.get(suffix.group(1).lower()) if suffix else None)
                or self.model)


def _named_models(mapping: dict) -> dict[str, str]:
    return {str(actor): model for actor, model in mapping.items() if _text_or_none(model)}


def content_text(content: object) -> str:
    """A message's text: a string, or the text parts of a list of parts; '' for null or images."""
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        text = content.get("text")
        return text if isinstance(text, str) and content.get("type", "text") == "text" else ""
    if isinstance(content, list):
        return "\n".join(part for part in map(content_text, content) if part)
    return ""


def _message_list(value: object, keys: tuple[str, ...]) -> list[dict] | None:
    """The message dicts of a conversation (archive rounds flattened), if any has one of `keys`."""
    if not isinstance(value, list):
        return None
    if any(isinstance(item, list) for item in value):
        value = chain.from_iterable(item if isinstance(item, list) else (item,) for item in value)
    messages = [item for item in value if isinstance(item, dict)]
    return messages if any(key in message for message in messages for key in keys) else None


def _scenario_name(scenario: object) -> str | None:
    if isinstance(scenario, dict):
        return _text_or_none(scenario.get("name"))
    return _text_or_none(scenario)


def _timestamp_of(record: dict, keys: tuple[str, ...] = TIMESTAMP_KEYS) -> str | None:
    for key in keys:
        value = record.get(key)
        if value is None or value == "" or isinstance(value, bool):
            continue
        if isinstance(value, (str, int, float)):
            return str(value)
    return None


def _speaker(value: object) -> str:
    return value if isinstance(value, str) and value else "unknown"


def _text_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


# --- records: the top-level values of a file, whatever its layout --------------------


@dataclass(frozen=True, slots=True)
class _Record:
    """One top-level value (JSONL line, array item, document) or the parse error in its place."""

    number: int
    where: str
    line: int
    column: int = 1
    value: object = None
    error: str | None = None
    error_column: int | None = None
    fatal: bool = False
    notice_line: int | None = None
    raw: str | None = None  # the decoded JSONL line, for placing message texts exactly
    refusal: str | None = None  # valid JSON this reader will not parse, and why


def _conversations(
    doc: Document, records: Iterable[_Record], always_numbered: bool,
    layout: JsonLayout | None = None,
) -> Iterator[Conversation]:
    """Conversations from the records; notices for the rest; SkipFile when there are none.

    A file whose records are single messages (see `is_message_record`) is one
    conversation of them all, yielded at its end.
    """
    # notices before the file is known to be a transcript, each flagged when its record
    # would be a message stream's header
    held: list[tuple[str, int | None, bool]] = []
    found = valid = 0
    first_error: _Record | None = None
    headers: list[dict] = []
    stream: _MessageStream | None = None
    for record, only in _with_only_flag(records):
        header = False
        if record.error is not None or record.refusal is not None:
            if record.fatal:
                problem = record.refusal or f"invalid JSON: {record.error}"
                if stream is not None:
                    found += 1
                    yield stream.conversation()
                if not found:
                    raise SkipFile(problem, record.notice_line)
                doc.notices.add(f"{problem}; the rest of the file was not read", record.notice_line)
                return
            first_error = first_error or record
            skipped = record.where.split()[0]  # line, item
            message = _located(record, f"{record.refusal}; {skipped} skipped" if record.refusal else
                               f"invalid JSON ({record.error} at column {record.error_column})")
        else:
            valid += 1
            conversation_id = doc.path if only and not always_numbered else f"{doc.path}#{record.number}"
            conversation = conversation_from_object(
                record.value, conversation_id, doc.path, record.line, record.column, record.raw,
                layout,
            )
            if conversation is not None:
                for held_message, held_line, _ in held:
                    doc.notices.add(held_message, held_line)
                held.clear()
                found += 1
                del record  # its raw line, once the texts are placed in it
                yield conversation
                del conversation
                continue
            if stream is None and not found and is_message_record(record.value):
                stream = _MessageStream(doc.path, headers)
                for held_message, held_line, is_header in held:
                    if not is_header:
                        doc.notices.add(held_message, held_line)
                held.clear()
            if stream is not None and stream.add(record):
                continue
            header = stream is None and not found and isinstance(record.value, dict)
            if header:
                headers.append(record.value)
            message = _located(record, "not a message, skipped" if stream is not None
                               else "not a transcript, skipped")
        if found or stream is not None:
            doc.notices.add(message, record.notice_line)
        else:
            held.append((message, record.notice_line, header))
            if record.number >= EARLY_CHECK:
                break
    if stream is not None:
        found += 1
        yield stream.conversation()
    if not found:
        if valid or first_error is None:
            raise SkipFile(_not_a_transcript(layout))
        if first_error.refusal:
            raise SkipFile(_located(first_error, first_error.refusal), first_error.notice_line)
        raise SkipFile(
            f"invalid JSON: {first_error.error} at line {first_error.line}"
            f" column {first_error.error_column}",
            first_error.line,
        )


def _not_a_transcript(layout: JsonLayout | None) -> str:
    if layout is None:
        return "not a transcript"
    return f"not a transcript (no message list at '{layout.messages}', as {layout.path} declares)"


def _located(record: _Record, message: str) -> str:
    """The message, naming the record unless the notice's own line number already does."""
    if record.where == f"line {record.notice_line}":
        return message
    return f"{record.where}: {message}"


def _with_only_flag(records: Iterable[_Record]) -> Iterator[tuple[_Record, bool]]:
    """Each record, flagged when it is the file's only one (its id is then the bare path).
    A record given is no longer held here (a JSONL line may be 100 MB)."""
    records = iter(records)
    ahead = list(islice(records, 2))
    only = len(ahead) == 1
    ahead.reverse()
    while ahead:
        yield ahead.pop(), only
    yield from map(_not_only, records)


def _not_only(record: _Record) -> tuple[_Record, bool]:
    return record, False


def _array_records(prefix: bytes, stream: BinaryIO, limit: int | None = None
                   ) -> Iterator[_Record]:
    """The items of a top-level array, streamed one at a time; an item of more than `limit`
    bytes (Limits.max_record) is read past, not held, and refused.

    The parser cannot drop a value it is in the middle of, so reading past a long item
    ends that parse: the source finds where the item ends, and a new parse reads the
    rest of the array from there, the items numbered on. A parse also ends after a long
    item it read, before the item is given, as it keeps a buffer as long as the longest
    string it met."""
    number = 0

    def numbered(value: object) -> _Record:  # so that no frame holds the item once given
        nonlocal number
        number += 1
        source.item_read()
        return _Record(number, f"item {number}", line=1, value=value)

    def parse() -> Iterator[_Record]:
        # use_float: without it the C backend crashes on an integer longer than Python
        # reads (4,301 digits); with it, an integer beyond 64 bits is a parse error.
        return map(numbered, _ijson_backend().items(source, "item", use_float=True,
                                                    buf_size=LONG_ITEM_READ))

    try:
        source = _ArraySource(prefix, stream, limit)  # checks the nesting of `prefix` at once
        parsed = parse()
        while True:
            try:
                while (record := next(parsed, None)) is not None:
                    if source.parsed_to_item_end():
                        del parsed
                        source.restart()
                        parsed = parse()
                    yield record
                    del record
                return
            except _TooLong as error:
                number += 1
                refusal = _too_long(f"an item of more than {format_size(limit or 0)}", "an item",
                                    limit or 0, error.width, "record")
                yield _Record(number, f"item {number}", 1, refusal=refusal)
                source.skip_item()
                parsed = parse()
    except _TooDeep as error:
        yield _Record(number + 1, f"item {number + 1}", 1, refusal=str(error), fatal=True)
    except (ijson.JSONError, ValueError) as error:
        if "integer overflow" in str(error):
            refusal = (f"an integer beyond 64 bits near byte {source.bytes_read}, which the"
                       " streaming JSON reader cannot read")
            yield _Record(number + 1, f"item {number + 1}", 1, refusal=refusal, fatal=True)
            return
        reason, line = _locate_error(source, error)
        yield _Record(number + 1, f"item {number + 1}", 1, error=reason, fatal=True,
                      notice_line=line)


def _object_records(prefix: bytes, stream: BinaryIO, limit: int | None = None
                    ) -> Iterator[_Record]:
    """JSONL records when the opening lines say so (see `_looks_line_delimited`), else documents;
    `limit` is the most bytes one line or document may have to be read (Limits.max_record)."""
    lines = io.BufferedReader(_PrefixedSource(prefix, stream), CHUNK_SIZE)
    records = _LineRecords(lines, limit)
    probes: list[_Record] = []
    for probe in records:
        probes.append(probe)
        if len(probes) == 2 or _parsed(probes[0]):
            break
    read, records.read = records.read, None
    if _looks_line_delimited(probes):
        del read
        return _replayed(probes, records)
    del probes
    held = sum(map(len, read))
    rest = lines.read() if limit is None else lines.read(max(0, limit + 1 - held))
    if records.cut or (limit is not None and held + len(rest) > limit):
        raise SkipFile(f"a JSON document of more than {format_size(limit or 0)} is not read"
                       " whole (see --max-record-size)")
    if limit is not None and len(rest) > limit // 4 and (width := _too_wide(rest, limit)):
        raise SkipFile(f"{_taking_more('a JSON document', limit, width)} is not read whole"
                       " (see --max-record-size)")
    # decoded once: joining decoded parts would hold the text twice, 4 bytes a character
    data = "".join(read).encode("utf-8", errors="surrogatepass") + rest
    del read, rest
    return _document_records(data.decode("utf-8", errors="replace"))


def _parsed(record: _Record) -> bool:
    return record.error is None and record.refusal is None


def _looks_line_delimited(probes: list[_Record]) -> bool:
    """JSONL when line 1 is JSON by itself, or (line 1 broken) line 2 is a whole conversation.

    A lone inner object on line 2 of a pretty-printed document is not enough.
    """
    if not probes:
        return False
    if _parsed(probes[0]):
        return True
    return len(probes) > 1 and _parsed(probes[1]) and is_conversation(probes[1].value)


def _replayed(first: list[_Record], rest: Iterator[_Record]) -> Iterator[_Record]:
    """The records of `first`, then those of `rest`; each of `first` is let go once given."""
    first.reverse()
    while first:
        yield first.pop()
    yield from rest


_BLANK = re.compile(r"[ \t\n\r\x0b\x0c]*\Z")


class _LineRecords:
    """The record of each non-blank JSONL line, read one line at a time.

    An iterator object, not a generator: a suspended generator would keep the last
    line's bytes, text and value alive, and a JSONL line may be 100 MB. Each line is
    decoded once, and its bytes let go before it is parsed. While `read` is a list, the
    decoded lines (blank ones too) are kept in it, for a file that turns out not to be
    JSONL.
    """

    def __init__(self, lines: BinaryIO, limit: int | None = None):
        self._lines = lines
        self._limit = limit
        self.cut = False  # whether a line was skipped for its length
        self._line_number = 0
        self._number = 0
        # A lone CR is a line break to text tools but not to JSONL: from the first one on,
        # columns inside lines could no longer be trusted, so texts are not placed exactly.
        self._lone_cr_seen = False
        self.read: list[str] | None = []

    def __iter__(self) -> _LineRecords:
        return self

    def __next__(self) -> _Record:
        # Read up to the limit, and the line break after it.
        limit = -1 if self._limit is None else self._limit + 2
        while raw := self._lines.readline(limit):
            self._line_number += 1
            if self._limit is not None:
                size = len(raw) - raw.endswith(b"\n") - raw.endswith(b"\r\n")
                if size > self._limit:
                    return self._too_long(raw)
                if size > self._limit // 4 and (width := _too_wide(raw, self._limit)):
                    return self._too_long(raw, width)
            text = raw.decode("utf-8", errors="replace")
            del raw
            if self.read is not None:
                self.read.append(text)
            if not self._lone_cr_seen:
                end = len(text) - text.endswith("\n")
                end -= text.endswith("\r", 0, end)
                self._lone_cr_seen = text.find("\r", 0, end) >= 0
            if not _BLANK.match(text):
                self._number += 1
                return _line_record(self._number, self._line_number, text, self._lone_cr_seen)
        raise StopIteration

    def _too_long(self, raw: bytes, width: int = 1) -> _Record:
        """The record of a line longer than the limit, which is read past, not held;
        `width`: the bytes each of its characters would take in memory, when that made
        it too long."""
        self.cut = True
        while raw and not raw.endswith(b"\n"):
            self._lone_cr_seen = self._lone_cr_seen or b"\r" in raw[:-1]
            raw = self._lines.readline(CHUNK_SIZE)
        self._number += 1
        refusal = _too_long(f"a line of more than {format_size(self._limit or 0)}", "a line",
                            self._limit or 0, width, "line")
        return _Record(self._number, f"line {self._line_number}", self._line_number,
                       refusal=refusal, notice_line=self._line_number)


# Python keeps a text in 1, 2 or 4 bytes a character, by its widest one: a line of ASCII
# with one emoji takes 4 times its length, and so does each string parsed from it.
_WIDE_CHARACTERS = {2: "characters beyond Latin-1", 4: "characters beyond the BMP"}
# The lead bytes of UTF-8 characters beyond the BMP (looked for one by one: a search for
# their class takes ten times as long), those of the others beyond Latin-1, and escapes
# (a regex finds `\\u` faster than `in` does, among a JSON text's many backslashes).
_LEADS_BEYOND_BMP = [bytes([lead]) for lead in range(0xF0, 0xF5)]
_LEAD_BEYOND_LATIN_1 = re.compile(rb"[\xc4-\xef]")
_ESCAPE_BEYOND_BMP = re.compile(rb"\\u[dD][89abAB]")
_ESCAPE_BEYOND_LATIN_1 = re.compile(rb"\\u(?!00)[0-9a-fA-F]{4}")


def _too_long(longer: str, what: str, limit: int, width: int, record: str) -> str:
    """Why a JSONL line or array item is not read: `longer` than the limit, or `what`
    whose text takes more in memory, `width` bytes a character."""
    if width > 1:
        longer = _taking_more(what, limit, width)
    return f"{longer}, the most one JSON {record} may hold (see --max-record-size)"


def _taking_more(what: str, limit: int, width: int) -> str:
    return (f"{what} whose text takes more than {format_size(limit)} in memory ({width} bytes"
            f" a character, as it holds {_WIDE_CHARACTERS[width]})")


_NOT_FIRST_BYTES = bytes(range(0x80, 0xC0))  # the bytes of UTF-8 that start no character


def _too_wide(raw: bytes, limit: int) -> int:
    """The bytes each character of the UTF-8 line `raw` takes in memory once decoded (or
    parsed: JSON escapes count), when its characters would take more than `limit` bytes
    in all; else 0."""
    width = _width(raw)
    if width == 1:
        return 0
    characters = len(raw) if raw.isascii() else sum(
        _characters(raw[start : start + CHUNK_SIZE]) for start in range(0, len(raw), CHUNK_SIZE))
    return width if characters * width > limit else 0


def _width(data: bytes) -> int:
    """The bytes a character of a text holding the UTF-8 (or JSON-escaped) `data` takes."""
    utf8 = not data.isascii()
    if (utf8 and any(lead in data for lead in _LEADS_BEYOND_BMP)) or _ESCAPE_BEYOND_BMP.search(data):
        return 4
    if (utf8 and _LEAD_BEYOND_LATIN_1.search(data)) or _ESCAPE_BEYOND_LATIN_1.search(data):
        return 2
    return 1


def _characters(data: bytes) -> int:
    """The characters of UTF-8 `data` (a character cut at either end counted once)."""
    return len(data.translate(None, _NOT_FIRST_BYTES))


def _line_record(number: int, line_number: int, text: str, lone_cr_seen: bool) -> _Record:
    """The record of one decoded JSONL line (`text` ends with its line break, if any)."""
    where = f"line {line_number}"
    value, error = _parse_line(text)
    if isinstance(error, _Refused):
        return _Record(number, where, line_number, refusal=str(error), notice_line=line_number)
    if error is None:
        return _Record(number, where, line_number, value=value, notice_line=line_number,
                       raw=None if lone_cr_seen else text)
    return _Record(number, where, line_number, error=_reason(error.msg),
                   error_column=error.colno, notice_line=line_number)


def _document_records(text: str) -> Iterator[_Record]:
    """One or more JSON values written one after another, each with where it opens."""
    if _too_deep(text.encode("utf-8", errors="surrogatepass")):
        yield _Record(1, "value 1", 1, refusal=_TooDeep.MESSAGE, fatal=True)
        return
    decoder = json.JSONDecoder()
    position = _JSON_WHITESPACE.match(text).end()
    line, line_start, number = 1, 0, 0
    while position < len(text):
        number += 1
        line += text.count("\n", line_start, position)
        line_start = text.rfind("\n", 0, position) + 1
        column = position - line_start + 1
        try:
            value, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError as error:
            reason = f"{_reason(error.msg)} at line {error.lineno} column {error.colno}"
            yield _Record(number, f"value {number}", line, column, error=reason, fatal=True,
                          notice_line=error.lineno)
            return
        except RecursionError:
            yield _Record(number, f"value {number}", line, column, refusal=_TooDeep.MESSAGE,
                          fatal=True, notice_line=line)
            return
        except ValueError:  # an integer longer than Python reads
            refusal = _long_number(text, position)
            yield _Record(number, f"value {number}", line, column, refusal=refusal, fatal=True,
                          notice_line=_line_of(refusal))
            return
        yield _Record(number, f"value {number}", line, column, value=value, notice_line=line)
        position = _JSON_WHITESPACE.match(text, position).end()


def _reason(message: str) -> str:
    """A json error message ready to take " at ..." (`Unterminated string starting at` ends so)."""
    return message.removesuffix(" at")


def _parse_line(text: str) -> tuple[object, json.JSONDecodeError | _Refused | None]:
    """The value of one JSONL line, or why it has none."""
    if text.count("[") + text.count("{") > MAX_NESTING and _too_deep(
            text.encode("utf-8", errors="surrogatepass")):
        return None, _Refused(_TooDeep.MESSAGE)
    try:
        # A line break after the value is whitespace to JSON: only an error's column
        # needs it gone, so a long line is not copied without it.
        return json.loads(text), None
    except json.JSONDecodeError as error:
        end = len(text) - text.endswith("\n")
        if error.pos < end - text.endswith("\r", 0, end):
            # before the line break, so on the line; without the traceback, whose frames
            # would keep the line and what was parsed of it until a collection
            return None, error.with_traceback(None)
    except RecursionError:
        return None, _Refused(_TooDeep.MESSAGE)
    except ValueError:  # an integer longer than Python reads
        return None, _Refused(_long_number(text, one_line=True))
    try:
        return json.loads(text.rstrip("\r\n")), None  # so columns stay on the line
    except json.JSONDecodeError as error:
        return None, error.with_traceback(None)


def _locate_error(source: _ArraySource, error: Exception) -> tuple[str, int | None]:
    """A short reason for an ijson error, with line and column when the bytes read were kept."""
    captured = source.captured()
    if captured is not None:
        text = captured.decode("utf-8", errors="replace")
        try:
            json.loads(text)
        except json.JSONDecodeError as located:
            at = f"at line {located.lineno} column {located.colno}"
            return f"{_reason(located.msg)} {at}", located.lineno
        except (RecursionError, ValueError):  # too deep, or an integer too long to read
            pass
    reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return f"{reason.removeprefix('parse error: ')} near byte {source.bytes_read}", None


# --- JSON this reader refuses -------------------------------------------------------


class _Refused(Exception):
    """Valid JSON that is not read; the message says why."""


class _TooDeep(Exception):
    """Raised from the byte source of a streamed array nested deeper than MAX_NESTING."""

    MESSAGE = f"JSON nested deeper than {MAX_NESTING} levels is not read"

    def __init__(self) -> None:
        super().__init__(self.MESSAGE)


_ESCAPE_PAIR = re.compile(rb'\\[\\"]')  # the escapes that could hide a quote
_NOT_STRUCTURE = bytes(range(256)).translate(None, b'[]{}"')
_BRACKET_STEPS = bytes.maketrans(b"[{]}", b"\x02\x02\x00\x00")  # each bracket: 1 more, 1 less


class _TooLong(Exception):
    """Raised from the byte source of a streamed array when one item outgrows the limit;
    `width`: the bytes each of its characters takes in memory, when that made it so."""

    def __init__(self, width: int = 1) -> None:
        super().__init__(width)
        self.width = width


class _NestingGuard:
    """Follows how deeply JSON bytes nest arrays and objects (outside strings), chunk by chunk."""

    def __init__(self, depth: int = 0, in_string: bool = False, carry: bytes = b"") -> None:
        self.depth = depth
        self._in_string = in_string
        self._carry = carry  # a backslash at a chunk's end escapes the next chunk's first byte

    def state(self) -> tuple[int, bool, bytes]:
        """Where the bytes fed so far leave off: a guard made with it goes on from there."""
        return self.depth, self._in_string, self._carry

    def too_deep(self, data: bytes) -> bool:
        """Whether these bytes, following the ones fed before, nest deeper than MAX_NESTING."""
        brackets, _ = self._brackets(data)
        closing = brackets.count(b"]") + brackets.count(b"}")
        opening = len(brackets) - closing
        if (self.depth + opening > MAX_NESTING
                and self.depth + max(_levels(brackets)) > MAX_NESTING):
            return True
        self.depth += opening - closing
        return False

    def between_items(self, data: bytes) -> bool:
        """Whether these bytes, following the ones fed before, reach a place between two
        items of a top-level array (outside a string, at most one level deep)."""
        brackets, outside = self._brackets(data)
        closing = brackets.count(b"]") + brackets.count(b"}")
        depth, self.depth = self.depth, self.depth + len(brackets) - 2 * closing
        if not outside:
            return False
        if depth <= 1 or self.depth <= 1:
            return True
        return depth - closing <= 1 and depth + min(_levels(brackets)) <= 1

    def _brackets(self, data: bytes) -> tuple[bytes, bool]:
        """The brackets of `data` outside strings, and whether any of it is outside one."""
        data, self._carry = self._carry + data, b""
        if b"\\" in data:
            data = _ESCAPE_PAIR.sub(b"", data)
            if data.endswith(b"\\"):
                data, self._carry = data[:-1], b"\\"
        pieces = data.translate(None, _NOT_STRUCTURE).split(b'"')
        outside = pieces[1::2] if self._in_string else pieces[0::2]
        if len(pieces) % 2 == 0:
            self._in_string = not self._in_string
        return b"".join(outside), bool(outside)


def _levels(brackets: bytes) -> Iterator[int]:
    """How many levels deeper than at the start, before and after each bracket."""
    # the level after k brackets: (sum of their steps) - k
    return map(operator.sub, accumulate(brackets.translate(_BRACKET_STEPS), initial=0), count())


def _item_end(data: bytes, state: tuple[int, bool, bytes]) -> int | None:
    """Where in `data`, read on from `state` (see `_NestingGuard.state`) inside a top-level
    array, the item under way ends: just past its comma, or at the array's closing
    bracket; None when it goes on past `data`. Byte by byte: for the one block where an
    item that was read past ends."""
    depth, in_string, carry = state
    escaped = bool(carry)
    for index, byte in enumerate(data):
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in b"[{":
            depth += 1
        elif byte in b"]}":
            depth -= 1
            if depth == 0:
                return index
        elif byte == 0x2C and depth == 1:
            return index + 1
    return None


def _too_deep(data: bytes) -> bool:
    """Whether one whole JSON text nests deeper than MAX_NESTING (cheap when it cannot)."""
    if data.count(b"[") + data.count(b"{") <= MAX_NESTING:
        return False
    return _NestingGuard().too_deep(data)


def _long_number(text: str, start: int = 0, one_line: bool = False) -> str:
    """Why a text with an integer longer than Python reads is refused, naming where it is."""
    digits = INT_DIGITS_LIMIT or 0
    found = re.compile(rf"[\[:,]\s*-?(\d{{{digits + 1},}})").search(text, start)
    if found is None:
        return f"a number is longer than Python reads ({digits} digits)"
    where = found.start(1)
    line = text.count("\n", 0, where) + 1
    column = where - (text.rfind("\n", 0, where) + 1) + 1
    where = f"column {column}" if one_line else f"line {line} column {column}"
    return (f"a number of {len(found.group(1))} digits at {where}"
            f" is longer than Python reads ({digits} digits)")


def _line_of(refusal: str) -> int | None:
    found = re.search(r"at line (\d+) ", refusal)
    return int(found.group(1)) if found else None


# --- byte streams --------------------------------------------------------------------


def _opening_bytes(stream: BinaryIO, encoding: str, bom: int) -> tuple[bytes, BinaryIO]:
    """The bytes up to the first non-whitespace one (BOM dropped), and the stream to go on with.

    `encoding` and `bom` are what `decode.sniff_encoding` found in the head. A
    UTF-16/32 file is decoded whole and re-encoded as UTF-8, as it is rare and small.
    """
    prefix = _read_at_least(stream, 4, b"")[bom:]
    if encoding != "utf-8":
        data = prefix + b"".join(iter(lambda: stream.read(CHUNK_SIZE), b""))
        prefix, stream = b"", io.BytesIO(data.decode(encoding, errors="replace").encode("utf-8"))
    while not prefix.lstrip():
        chunk = stream.read(CHUNK_SIZE)
        if not chunk:
            break
        prefix += chunk
    return prefix, stream


def _read_at_least(stream: BinaryIO, size: int, prefix: bytes) -> bytes:
    while len(prefix) < size:
        chunk = stream.read(size - len(prefix))
        if not chunk:
            break
        prefix += chunk
    return prefix


class _PrefixedSource(io.RawIOBase):
    """A raw reader giving `prefix` first, then the rest of `stream`."""

    def __init__(self, prefix: bytes, stream: BinaryIO):
        self._pending = prefix
        self._stream = stream
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        wanted = len(buffer)
        if wanted == 0:
            return 0
        while not self._pending:
            chunk = self._stream.read(self._chunk_size(wanted))
            if not chunk:
                self._pending = self._finish()
                if not self._pending:
                    return 0
                break
            self._pending = self._transform(chunk)
        given, self._pending = self._pending[:wanted], self._pending[wanted:]
        buffer[: len(given)] = given
        self.bytes_read += len(given)
        self._seen(given)
        return len(given)

    def _chunk_size(self, wanted: int) -> int:
        return max(wanted, CHUNK_SIZE)

    def _transform(self, chunk: bytes) -> bytes:
        return chunk

    def _finish(self) -> bytes:
        return b""

    def _seen(self, given: bytes) -> None:
        pass


class _ArraySource(_PrefixedSource):
    """The byte source for ijson: bad UTF-8 replaced (yajl rejects it) and the opening kept.

    With a `limit`, raises _TooLong once more than `limit` bytes were read since the
    parser last gave an item (`item_read`) and none came: that many bytes of one item
    (the whitespace before it aside), as the parser gives each item as soon as the
    block holding its end is read. `skip_item` then reads past the item."""

    def __init__(self, prefix: bytes, stream: BinaryIO, limit: int | None = None):
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._kept: bytearray | None = bytearray()
        self._nesting = _NestingGuard()
        self._limit: int | None = None
        self._item_start = 0
        self._item_characters, self._item_width = 0, 1  # of the item under way, as read
        self._block_width = 1  # of the last block read
        self._cut: tuple[tuple[int, bool, bytes], bytes] | None = None  # where _TooLong came
        self._held: bytes | None = None  # what follows a long item, for a new parse
        self._held_from = 0  # where it starts
        super().__init__(b"", stream)
        self._pending = self._transform(prefix)
        self._limit = limit

    def item_read(self) -> None:
        """The parser gave an item: the next one starts at most a block before here (so
        it is as wide as that block)."""
        self._item_start = self.bytes_read
        self._item_characters, self._item_width = 0, self._block_width

    def skip_item(self) -> None:
        """After _TooLong: read past the rest of the item, and give the bytes after it as
        the opening of an array, for a new parse to go on with."""
        state, data = self._cut or ((1, False, b""), b"")
        self._cut, self._kept = None, None  # error positions are given by byte from here
        guard = _NestingGuard(*state)
        while data:
            if guard.between_items(data):
                end = _item_end(data, state)
                if end is not None:
                    self.bytes_read += end - 1  # the `[` given again is not the file's
                    self.resume(b"[" + data[end:])
                    return
            self.bytes_read += len(data)
            state = guard.state()
            data = self._decoded(self._stream.read(CHUNK_SIZE))
        self.bytes_read -= 1
        self.resume(b"[" + self._decoded(b"", final=True))  # the file ends inside the item

    def parsed_to_item_end(self) -> bool:
        """Whether the parser, which just gave an item, was given nothing after it: the
        bytes after a long item are held back (see `_guarded`) so that a new parse can go
        on from there."""
        return self._held is not None and self._item_start >= self._held_from

    def restart(self) -> None:
        """Give the bytes after the long item as the opening of an array, for a new parse."""
        data, self._held = self._held or b"", None
        self.bytes_read -= 1
        self.resume(b"[" + data)

    def resume(self, data: bytes) -> None:
        self._nesting = _NestingGuard()
        self._pending = self._guarded(data, limited=False)
        self.item_read()

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        if self._held is not None and not self._pending:  # the long item did not come
            self._pending, self._held = self._held, None
        return super().readinto(buffer)

    def _chunk_size(self, wanted: int) -> int:
        """As many bytes as the item under way has so far, but no more than it may still
        have, so that the limit is found within a block of CHUNK_SIZE."""
        since = self.bytes_read - self._item_start
        room = since if self._limit is None else min(since, self._limit - since)
        return min(wanted, max(CHUNK_SIZE, room))

    def _decoded(self, chunk: bytes, final: bool = False) -> bytes:
        return self._decoder.decode(chunk, final).encode("utf-8")

    def _transform(self, chunk: bytes) -> bytes:
        return self._guarded(self._decoded(chunk))

    def _finish(self) -> bytes:
        return self._guarded(self._decoded(b"", final=True))

    def _guarded(self, data: bytes, limited: bool = True) -> bytes:
        state = self._nesting.state()
        if self._nesting.too_deep(data):
            raise _TooDeep
        since = self.bytes_read - self._item_start
        if limited and self._limit is not None:
            self._block_width = _width(data)
            self._item_width = max(self._item_width, self._block_width)
            self._item_characters += len(data) if data.isascii() else _characters(data)
            if since + len(data) > self._limit or (
                    self._item_characters * self._item_width > self._limit):
                self._cut = state, data
                raise _TooLong(1 if since + len(data) > self._limit else self._item_width)
        if limited and since > LONG_ITEM and _NestingGuard(*state).between_items(data):
            end = _item_end(data, state)
            if end is not None and data[end - 1 : end] == b",":
                self._held, self._held_from = data[end:], self.bytes_read + end
                return data[:end]
        return data

    def _seen(self, given: bytes) -> None:
        if self._kept is not None:
            self._kept += given
            if len(self._kept) > ERROR_CAPTURE_LIMIT:
                self._kept = None

    def captured(self) -> bytes | None:
        """Everything handed to the parser so far, unless that outgrew the capture limit."""
        return None if self._kept is None else bytes(self._kept)


@lru_cache(maxsize=1)
def _ijson_backend():  # type: ignore[no-untyped-def]
    """The fastest ijson backend that loads here (the C one parses several times faster)."""
    for name in ("yajl2_c", "yajl2_cffi", "yajl2"):
        with suppress(ImportError):
            return ijson.get_backend(name)
    return ijson.get_backend("python")
