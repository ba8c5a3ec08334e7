"""Offsets in a text file -> 1-based line and column, and turn bodies cut out of it."""

from __future__ import annotations


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
