"""`--format jsonl`: a stream of {"type", "data"} events, one per line, flushed per file."""

from __future__ import annotations

import json
from collections import Counter

from backrooms_scan.report.base import HitPositions, Reporter, hit_fields
from backrooms_scan.tally import problem_kind


class JsonlReporter(Reporter):
    def emit(self, kind: str, data: dict) -> None:
        self.out.write(json.dumps({"type": kind, "data": data}, ensure_ascii=False) + "\n")

    def __init__(self, out, options):
        super().__init__(out, options)
        self.open_file: dict | None = None  # the `end` data of a file read in parts

    def file_done(self, result, records) -> None:
        if self.options.count_only:
            return
        if result.error is not None:
            self.emit("error", {"path": result.path, "message": result.error})
        elif result.skipped is not None:
            self.emit("skip", {"path": result.path, "reason": result.skipped})
            self.emit_notices(result)
        else:
            self.scanned_part(result, records)
        self.out.flush()

    def emit_notices(self, result) -> None:
        for notice in result.notices:
            self.emit("notice", {"path": notice.path, "line": notice.line,
                                 "kind": problem_kind(notice.message), "message": notice.message})

    def scanned_part(self, result, records) -> None:
        if self.open_file is None:
            self.emit("begin", {"path": result.path, "format": result.format})
            self.open_file = {"path": result.path, "format": result.format, "conversations": 0,
                              "turns": Counter(), "hits": 0, "hits_including_replays": 0}
        positions = HitPositions()
        for record in records:
            self.emit("match", hit_fields(record, self.options.context, positions))
        end = self.open_file
        end["conversations"] += result.conversations
        end["turns"].update(result.turns)
        end["hits"] += sum(not r.replay for r in records)
        end["hits_including_replays"] += len(records)
        self.emit_notices(result)
        if result.final:
            self.emit("end", {**end, "turns": dict(end["turns"]), "repaired": result.repaired})
            self.open_file = None

    def finish(self, tally, summary, footer) -> None:
        self.emit("summary", {**summary, **footer})
        self.out.flush()
