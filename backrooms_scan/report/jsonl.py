"""`--format jsonl`: a stream of {"type", "data"} events, one per line, flushed per file."""

from __future__ import annotations

import json

from backrooms_scan.report.base import Reporter, hit_fields


class JsonlReporter(Reporter):
    def emit(self, kind: str, data: dict) -> None:
        self.out.write(json.dumps({"type": kind, "data": data}, ensure_ascii=False) + "\n")

    def file_done(self, result, records) -> None:
        if self.options.count_only:
            return
        if result.error is not None:
            self.emit("error", {"path": result.path, "message": result.error})
        elif result.skipped is not None:
            self.emit("skip", {"path": result.path, "reason": result.skipped})
        else:
            self.emit("begin", {"path": result.path, "format": result.format})
            for record in records:
                self.emit("match", hit_fields(record, self.options.context))
            self.emit("end", {
                "path": result.path,
                "format": result.format,
                "conversations": result.conversations,
                "turns": dict(result.turns),
                "hits": sum(not r.replay for r in records),
                "hits_including_replays": len(records),
                "repaired": result.repaired,
            })
        self.out.flush()

    def finish(self, tally, summary, footer) -> None:
        self.emit("summary", {**summary, **footer})
        self.out.flush()
