"""Offsets in a text file -> 1-based line and column, turn bodies cut out of it, and
fast searches for lines that start a certain way."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from itertools import chain


class LineLocator:
    """1-based (line, column) of offsets in a text, counting forward from the last offset
    asked: cheap when offsets come in order, as they do while a file's turns are read."""

    def __init__(self, text: str):
        self.text = text
        self.offset = 0
        self.line = 1

    def __call__(self, offset: int) -> tuple[int, int]:
        if offset < self.offset:
            self.offset, self.line = 0, 1
        self.line += self.text.count("\n", self.offset, offset)
        self.offset = offset
        return self.line, offset - self.text.rfind("\n", 0, offset)


def trimmed_slice(text: str, start: int, end: int) -> tuple[str, int]:
    """`text[start:end]` without surrounding blank lines or trailing space, and its offset."""
    content = text[start:end].lstrip()
    if not content:
        return "", start
    newline = text.rfind("\n", start, end - len(content))
    begin = start if newline == -1 else newline + 1
    return text[begin:end].rstrip(), begin


def at_line_starts(pattern: re.Pattern, text: str | bytes) -> Iterator[tuple[int, re.Match]]:
    """(line start, match) of each match of `pattern`, in order; much faster than
    `pattern.finditer` on long texts. `pattern` is MULTILINE and starts with a `^`
    that applies to the whole of it (no top-level alternation); text and pattern are
    both str or both bytes."""
    first = pattern.match(text)
    if first:
        yield 0, first
    for found in _after_newline(pattern).finditer(text):
        yield found.start() + 1, found


def matches_at_line_starts(pattern: re.Pattern, text: str | bytes) -> Iterator[re.Match]:
    """The matches `at_line_starts` finds, without their line starts: no step of Python per
    match, for callers that make one object of each and take its place from the match."""
    first = pattern.match(text)
    rest = _after_newline(pattern).finditer(text)
    return chain((first,), rest) if first else rest


def first_at_line_start(pattern: re.Pattern[str], text: str) -> re.Match[str] | None:
    """`pattern.search(text)` for a pattern that `at_line_starts` can take."""
    return next((found for _, found in at_line_starts(pattern, text)), None)


@functools.cache
def _after_newline(pattern: re.Pattern) -> re.Pattern:
    """`pattern` with its `^` made a newline: a literal start lets the engine skip ahead."""
    caret, newline = ("^", "\n") if isinstance(pattern.pattern, str) else (b"^", b"\n")
    if not pattern.pattern.startswith(caret):
        raise ValueError(f"not a pattern anchored at a line start: {pattern.pattern!r}")
    return re.compile(newline + pattern.pattern[1:], pattern.flags)


def next_line_start(text: str, offset: int) -> int:
    """Where the line after the one holding `offset` starts (the text's end on its last line)."""
    newline = text.find("\n", offset)
    return len(text) if newline == -1 else newline + 1


def line_of_first_text(text: str, offset: int) -> int:
    """The 1-based line of the first non-blank character at or after `offset`."""
    rest = text[offset:]
    return text.count("\n", 0, offset + len(rest) - len(rest.lstrip())) + 1
