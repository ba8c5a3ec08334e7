"""`show`: conversations as text, each turn under a header, pattern hits highlighted.

On a terminal hits are in reverse yellow and long lines are wrapped to its width;
piped, the text is plain, hits are in «guillemets» and lines are left as they are.
Control characters in transcripts (ANSI art, stray escapes) are shown as symbols,
so a transcript cannot drive the terminal.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TextIO

from backrooms_scan.show import ShownConversation, ShownTurn

INDENT = "  "
HIGHLIGHT = ("\x1b[1;30;43m", "\x1b[0m")
BRACKETS = ("«", "»")
BOLD = ("\x1b[1m", "\x1b[0m")
DIM = ("\x1b[2m", "\x1b[0m")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def visible(text: str) -> str:
    """`text` with control characters (but newline and tab) as their Unicode symbols."""
    return _CONTROL.sub(lambda m: "\u2421" if m.group() == "\x7f" else chr(0x2400 + ord(m.group())),
                        text)


def hit_regions(turn: ShownTurn) -> list[tuple[int, int]]:
    """The spans of the turn's hits, overlapping and touching ones merged, in order."""
    regions: list[list[int]] = []
    for start, end in sorted((hit.start, hit.end) for hit in turn.hits):
        if regions and start <= regions[-1][1]:
            regions[-1][1] = max(regions[-1][1], end)
        else:
            regions.append([start, end])
    return [(start, end) for start, end in regions]


def wrapped(line: str, width: int | None) -> Iterator[tuple[int, int]]:
    """[start, end) pieces of one line no wider than `width`, broken at spaces (which are
    left out) where there are any, else inside a word."""
    start = 0
    while width is not None and len(line) - start > width:
        cut = line.rfind(" ", start + 1, start + width + 1)
        if cut < 0:
            yield start, start + width
            start += width
        else:
            yield start, cut
            start = cut + 1
    yield start, len(line)


class TranscriptPrinter:
    def __init__(self, out: TextIO, *, color: bool, width: int | None):
        self.out = out
        self.color = color
        self.width = width  # None: do not wrap

    def styled(self, text: str, style: tuple[str, str]) -> str:
        return f"{style[0]}{text}{style[1]}" if self.color else text

    def conversation(self, shown: ShownConversation, marked: bool) -> None:
        c = shown.conversation
        about = [c.format] + [f"scenario {c.scenario}"] * bool(c.scenario)
        about.append(f"{len(c.turns)} turns")
        self.write(self.styled(f"=== {visible(c.id)} ({', '.join(about)}) ===", BOLD))
        if shown.before:
            self.write(self.styled(f"... {shown.before} earlier turns", DIM))
        for turn in shown.turns:
            self.turn(turn, marked)
        if shown.after:
            self.write(self.styled(f"... {shown.after} later turns", DIM))

    def turn(self, shown: ShownTurn, marked: bool) -> None:
        self.write(self.header(shown, marked))
        text = shown.turn.text
        regions = hit_regions(shown)
        offset = 0
        for line in text.split("\n"):
            for start, end in wrapped(line, self.width and max(20, self.width - len(INDENT))):
                piece = self.highlighted(text, offset + start, offset + end, regions)
                self.write((INDENT + piece).rstrip())
            offset += len(line) + 1
        self.write()

    def header(self, shown: ShownTurn, marked: bool) -> str:
        turn = shown.turn
        speaker = visible(turn.speaker) + (" (inferred)" if turn.speaker_inferred else "")
        parts = [f"turn {turn.index}", speaker, visible(turn.model or "(unknown model)"),
                 turn.role.value, f"line {turn.line}:{turn.column}"]
        if shown.hits:
            parts.append(f"{len(shown.hits)} hit" + ("" if len(shown.hits) == 1 else "s"))
        mark = (">> " if shown.target else "   ") if marked else ""
        return self.styled(f"{mark}--- {' · '.join(parts)} ---", BOLD)

    def highlighted(self, text: str, start: int, end: int,
                    regions: list[tuple[int, int]]) -> str:
        """text[start:end] made visible, with the parts inside hit regions marked."""
        marks = HIGHLIGHT if self.color else BRACKETS
        pieces, position = [], start
        for region_start, region_end in regions:
            lo, hi = max(region_start, start), min(region_end, end)
            if lo >= hi:
                continue
            pieces.append(visible(text[position:lo]))
            pieces.append(marks[0] + visible(text[lo:hi]) + marks[1])
            position = hi
        pieces.append(visible(text[position:end]))
        return "".join(pieces)

    def write(self, line: str = "") -> None:
        self.out.write(line + "\n")
