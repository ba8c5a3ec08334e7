"""What every reporter shares: the callbacks it is given."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

from backrooms_scan.scan import FileResult
from backrooms_scan.tally import FileCounts, HitRecord, Tally


class Reporter:
    """Receives results as the scan goes; writes to `out` (streaming ones flush per file)."""

    def __init__(self, out: TextIO, options):
        self.out = out
        self.options = options

    def file_done(self, result: FileResult, records: Sequence[HitRecord],
                  counts: FileCounts) -> None:
        """Called once per file (or part of a file), in input order, with what the tally
        made of it."""

    def finish(self, tally: Tally, summary: dict, footer: dict) -> None:
        """Called once at the end (also after an interrupt, with footer['partial'] true)."""


def pattern_totals(summary: dict) -> list[tuple[str, int]]:
    return [(f"{row['set']}/{row['pattern']}", row["hits"]) for row in summary["patterns"]]
