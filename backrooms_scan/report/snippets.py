"""Keyword-in-context records: built from a hit, rendered by the human reporters."""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from backrooms_scan.environment import PROG
from backrooms_scan.records import Hit
from backrooms_scan.report.events import HitPositions

NEWLINE_MARK = " ⏎ "


@dataclass(frozen=True)
class Snippet:
    location: str
    speaker: str
    left: str
    match: str
    right: str
    show: str | None = None  # the command printing the hit's turn in full


def show_command(source: str, line: int) -> str | None:
    """The `show` command, ready to paste into a shell, for `line` of `source`; None for
    stdin, which cannot be read again."""
    if source == "-":
        return None
    return f"{PROG} show {shlex.quote(f'{source}:{line}')}"


def one_line(text: str) -> str:
    return text.replace("\r", "").replace("\n", NEWLINE_MARK)


def make_snippet(hit: Hit, width: int, positions: HitPositions | None = None) -> Snippet:
    """`width` characters of context on each side, with … where the turn goes on;
    `positions` locates hits read in order faster."""
    turn, text = hit.turn, hit.turn.text
    left_start, right_end = max(0, hit.start - width), min(len(text), hit.end + width)
    left = ("…" if left_start > 0 else "") + one_line(text[left_start : hit.start])
    right = one_line(text[hit.end : right_end]) + ("…" if right_end < len(text) else "")
    line, column = hit.position if positions is None else positions.of(hit)
    speaker = turn.speaker + (f" ({turn.model})" if turn.model else "")
    return Snippet(f"{turn.source}:{line}:{column}", speaker, left, one_line(hit.text), right,
                   show_command(turn.source, line))
