"""What `show` displays: a file's conversations, or the turns at one of its lines, with hits.

The core of the `show` command: it reads one file the way a scan does, picks the
turns asked for and finds every pattern hit in them (prompts included); the
rendering is report/transcript.py's.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import BinaryIO

from backrooms_scan import formats, walk
from backrooms_scan.decode import Document, classify_head
from backrooms_scan.matcher import Matcher
from backrooms_scan.patternsets import PatternSet
from backrooms_scan.records import Conversation, Hit, SkipFile, Turn
from backrooms_scan.scan import describe_failure, skip_reason


class ShowError(ValueError):
    """Why the turns asked for cannot be shown; the message is the one line told the user."""


@dataclass(frozen=True)
class ShownTurn:
    turn: Turn
    hits: list[Hit]
    target: bool = False  # a turn at the line asked for


@dataclass(frozen=True)
class ShownConversation:
    conversation: Conversation
    turns: list[ShownTurn]
    before: int = 0  # turns of the conversation left out before the first shown
    after: int = 0  # and after the last


def parse_location(text: str) -> tuple[str, int | None]:
    """`PATH` or `PATH:LINE`; a file that exists as written wins over a `:LINE` reading."""
    found = re.fullmatch(r"(.+):(\d+)", text)
    if found is None or os.path.exists(text):
        return text, None
    return found.group(1), int(found.group(2))


def chosen_patterns(sets: Sequence[PatternSet], names: Sequence[str]) -> list[PatternSet]:
    """The sets cut down to the patterns named (`id` or `set/id`); all of them when none are."""
    if not names:
        return list(sets)
    wanted = set(names)
    chosen = [replace(s, patterns=tuple(p for p in s.patterns
                                        if p.id in wanted or f"{s.name}/{p.id}" in wanted))
              for s in sets]
    known = {name for s in sets for p in s.patterns for name in (p.id, f"{s.name}/{p.id}")}
    unknown = sorted(wanted - known)
    if unknown:
        raise ShowError(f"no pattern named {unknown[0]!r} in the sets chosen")
    return [s for s in chosen if s.patterns]


def read_conversations(path: str, *, input_format: str | None = None, fix_text: bool = True,
                       stdin: BinaryIO | None = None) -> Iterator[Conversation]:
    """The conversations of one file (or archive member `archive!member`; `-`: `stdin`), in order."""
    archive = path if os.path.exists(path) or "!" not in path else path.split("!", 1)[0]
    for item in walk.iter_inputs([archive], stdin=stdin):
        if isinstance(item, walk.PathError):
            raise ShowError(f"{item.path}: {item.message}")
        if item.path == path or archive == path:
            if isinstance(item, walk.Skipped):
                raise ShowError(f"{item.path}: cannot be shown: {item.reason}")
            # Loaded while the walk holds the archive open.
            yield from _load(item, path, input_format, fix_text)
            return
    raise ShowError(f"{path}: no such file" + (" in the archive" if archive != path else ""))


def _load(item: walk.Input, path: str, input_format: str | None,
          fix_text: bool) -> Iterator[Conversation]:
    try:
        doc = Document.from_input(item, fix_text=fix_text)
        fmt = (formats.by_name(input_format) if input_format
               else formats.detect(doc, plain_text_fallback=True))
        reason = None if fmt is not None and fmt.binary else classify_head(doc.head)
        if reason:
            raise SkipFile(reason)
        if fmt is None:
            raise SkipFile("not a recognised transcript format")
        yield from fmt.load(doc)
    except Exception as error:  # noqa: BLE001 - told as one line, as a scan tells a skip
        reason = skip_reason(error) if isinstance(error, SkipFile) else describe_failure(error)
        raise ShowError(f"{path}: cannot be shown: {reason}") from None


def conversations_to_show(conversations: Iterator[Conversation], matcher: Matcher,
                          line: int | None = None, context: int = 0) -> list[ShownConversation]:
    """Every conversation whole, or the turns at `line` with `context` turns each side."""
    if line is None:
        return [_shown(conversation, matcher, range(len(conversation.turns)), set())
                for conversation in conversations]
    best: tuple[Conversation, list[int]] | None = None
    for conversation in conversations:
        covering = [i for i, turn in enumerate(conversation.turns) if _covers(turn, line)]
        if covering:
            best = (conversation, covering)
            break
        before = [i for i, turn in enumerate(conversation.turns) if turn.line <= line]
        if before:
            best = (conversation, before[-1:])
    if best is None:
        raise ShowError(f"no turn at or before line {line}")
    conversation, targets = best
    first = max(0, targets[0] - context)
    last = min(len(conversation.turns), targets[-1] + context + 1)
    return [_shown(conversation, matcher, range(first, last), set(targets))]


def _covers(turn: Turn, line: int) -> bool:
    last_line = turn.line + (turn.text.count("\n") if turn.verbatim else 0)
    return turn.line <= line <= last_line


def _shown(conversation: Conversation, matcher: Matcher, indices: range,
           targets: set[int]) -> ShownConversation:
    turns = [conversation.turns[i] for i in indices]
    hits = {id(found.turn): found.hits for found in matcher.match_turns(turns)}
    return ShownConversation(
        conversation,
        [ShownTurn(turn, hits.get(id(turn), []), i in targets) for i, turn in zip(indices, turns)],
        before=indices.start,
        after=len(conversation.turns) - indices.stop,
    )
