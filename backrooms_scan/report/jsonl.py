"""`--format jsonl`: a stream of {"type", "data"} events, one per line, flushed per file."""

from __future__ import annotations

import json

from backrooms_scan.report.base import Reporter
from backrooms_scan.report.events import (
    HitPositions,
    begin_event,
    end_event,
    hit_fields,
    notice_event,
)
from backrooms_scan.tally import FileCounts


class JsonlReporter(Reporter):
    def emit(self, kind: str, data: dict) -> None:
        self.out.write(json.dumps({"type": kind, "data": data}, ensure_ascii=False) + "\n")

    def __init__(self, out, options):
        super().__init__(out, options)
        self.open_file: tuple[str | None, FileCounts] | None = None  # a file read in parts

    def file_done(self, result, records, counts) -> None:
        if self.options.count_only:
            return
        if result.error is not None:
            self.emit("error", {"path": result.path, "message": result.error})
        elif result.skipped is not None:
            self.emit("skip", {"path": result.path, "reason": result.skipped})
            self.emit_notices(result)
        else:
            self.scanned_part(result, records, counts)
        self.out.flush()

    def emit_notices(self, result) -> None:
        for notice in result.notices:
            self.emit("notice", notice_event(notice))

    def scanned_part(self, result, records, counts) -> None:
        if self.open_file is None:
            self.emit("begin", begin_event(result.path, result.format))
            self.open_file = (result.format, FileCounts())
        positions = HitPositions()
        for record in records:
            self.emit("match", hit_fields(record, self.options.context, positions))
        fmt, file_counts = self.open_file
        file_counts.add(counts)
        self.emit_notices(result)
        if result.final:
            self.emit("end", end_event(result.path, fmt, file_counts, result.repaired))
            self.open_file = None

    def finish(self, tally, summary, footer) -> None:
        self.emit("summary", {**summary, **footer})
        self.out.flush()
