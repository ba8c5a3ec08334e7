"""`--format json`: one JSON object, the summary (plus every hit with `--hits`)."""

from __future__ import annotations

import json

from backrooms_scan.report.base import Reporter
from backrooms_scan.report.events import HitPositions, hit_fields


class JsonReporter(Reporter):
    def __init__(self, out, options):
        super().__init__(out, options)
        self.hits: list[dict] = []
        self.states: list[dict] = []

    def file_done(self, result, records, counts) -> None:
        if self.options.include_hits:
            positions = HitPositions()
            self.hits.extend(hit_fields(r, self.options.context, positions) for r in records)

    def finish(self, tally, summary, footer) -> None:
        document = {**summary, **footer}
        if self.options.include_hits:
            document["hits"] = self.hits
        document.update(self.options.extra)
        json.dump(document, self.out, ensure_ascii=False, indent=2)
        self.out.write("\n")
