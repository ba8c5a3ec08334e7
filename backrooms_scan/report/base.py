"""What every reporter shares: the callbacks and the fields of one hit."""

from __future__ import annotations

from typing import TextIO

from backrooms_scan.scan import FileResult
from backrooms_scan.tally import HitRecord, Tally

HIT_FIELDS = ("path", "line", "column", "conversation", "turn", "speaker", "speaker_inferred",
              "model", "scenario", "role", "timestamp", "set", "pattern", "match", "before",
              "after", "replay", "relation")


class Reporter:
    """Receives results as the scan goes; writes to `out` (streaming ones flush per file)."""

    def __init__(self, out: TextIO, options):
        self.out = out
        self.options = options

    def file_done(self, result: FileResult, records: list[HitRecord]) -> None:
        """Called once per file, in input order, after the tally has counted it."""

    def finish(self, tally: Tally, summary: dict, footer: dict) -> None:
        """Called once at the end (also after an interrupt, with footer['partial'] true)."""


class HitPositions:
    """The (line, column) of hits read in order: within a turn, line breaks are counted
    on from the previous hit, not from the turn's start, so a long line with many hits
    takes time linear in its length, not in its length times its hits."""

    def __init__(self) -> None:
        self._turn = None
        self._offset = self._breaks = 0
        self._line_start = -1

    def of(self, hit) -> tuple[int, int]:
        turn = hit.turn
        if not turn.verbatim:
            return turn.line, turn.column
        if turn is not self._turn or hit.start < self._offset:
            self._turn, self._offset, self._breaks, self._line_start = turn, 0, 0, -1
        text, offset = turn.text, hit.start
        breaks = text.count("\n", self._offset, offset)
        if breaks:
            self._breaks += breaks
            self._line_start = text.rfind("\n", self._offset, offset) + 1
        self._offset = offset
        if not self._breaks:
            return turn.line, turn.column + offset
        return turn.line + self._breaks, offset - self._line_start + 1


def hit_fields(record: HitRecord, context: int, positions: HitPositions | None = None) -> dict:
    """The documented fields of one hit, for the machine formats; `positions` locates hits
    read in order faster."""
    hit, turn = record.hit, record.hit.turn
    line, column = hit.position if positions is None else positions.of(hit)
    return {
        "path": turn.source,
        "line": line,
        "column": column,
        "conversation": turn.conversation,
        "turn": turn.index,
        "speaker": turn.speaker,
        "speaker_inferred": turn.speaker_inferred,
        "model": turn.model,
        "scenario": turn.scenario,
        "role": turn.role.value,
        "timestamp": turn.timestamp,
        "set": hit.set,
        "pattern": hit.pattern,
        "match": hit.text,
        "before": turn.text[max(0, hit.start - context) : hit.start],
        "after": turn.text[hit.end : hit.end + context],
        "replay": record.replay,
        "relation": record.relation.value,
    }


def pattern_totals(summary: dict) -> list[tuple[str, int]]:
    return [(f"{row['set']}/{row['pattern']}", row["hits"]) for row in summary["patterns"]]
