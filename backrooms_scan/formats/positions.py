"""Offsets in a text file -> 1-based line and column, and turn bodies cut out of it."""

from __future__ import annotations

import re
from bisect import bisect_right


def line_starts(text: str) -> list[int]:
    """The offset at which every line of `text` starts."""
    return [0, *(m.end() for m in re.finditer("\n", text))]


def position(starts: list[int], offset: int) -> tuple[int, int]:
    """(line, column), both from 1, of `offset`, given the text's `line_starts`."""
    line = bisect_right(starts, offset)
    return line, offset - starts[line - 1] + 1


def trimmed_slice(text: str, start: int, end: int) -> tuple[str, int]:
    """`text[start:end]` without surrounding blank lines or trailing space, and its offset."""
    content = text[start:end].lstrip()
    if not content:
        return "", start
    newline = text.rfind("\n", start, end - len(content))
    begin = start if newline == -1 else newline + 1
    return text[begin:end].rstrip(), begin
