"""`--format csv`: one row per hit (or per pattern with `--count`), with a header row."""

from __future__ import annotations

import csv

from backrooms_scan.report.base import Reporter
from backrooms_scan.report.events import HIT_FIELDS, HitPositions, hit_fields

COUNT_FIELDS = ("set", "pattern", "hits", "hits_including_replays", "turns", "conversations")


class CsvReporter(Reporter):
    def __init__(self, out, options):
        super().__init__(out, options)
        self.writer = csv.writer(out, lineterminator="\n")
        if not options.count_only:
            self.writer.writerow(HIT_FIELDS)

    def file_done(self, result, records, counts) -> None:
        if self.options.count_only:
            return
        positions = HitPositions()
        for record in records:
            fields = hit_fields(record, self.options.context, positions)
            self.writer.writerow(["" if fields[k] is None else fields[k] for k in HIT_FIELDS])
        self.out.flush()

    def finish(self, tally, summary, footer) -> None:
        if self.options.count_only:
            self.writer.writerow(COUNT_FIELDS)
            for row in summary["patterns"]:
                self.writer.writerow([row[k] for k in COUNT_FIELDS])
