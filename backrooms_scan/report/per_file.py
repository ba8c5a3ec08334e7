"""`-c/--count`, `--count-matches`, `-l/--files-with-matches`: a line per file with hits.

As in ripgrep: `--count` counts what holds a match (here turns with hits),
`--count-matches` the hits themselves, `-l` names the files; files without a
counted hit are left out. Replays count only with `--count-replays`.
"""

from __future__ import annotations

import csv

from backrooms_scan.report.base import Reporter
from backrooms_scan.tally import FileCounts

HEADINGS = {"turns": "turns_with_hits", "hits": "hits"}


class PerFileReporter(Reporter):
    def __init__(self, out, options, *, as_csv: bool = False):
        super().__init__(out, options)
        self.counts = FileCounts()  # of the file's parts so far
        self.writer = csv.writer(out, lineterminator="\n") if as_csv else None
        if self.writer is not None:
            self.writer.writerow(["path"] + ([HEADINGS[options.per_file]]
                                             if options.per_file in HEADINGS else []))

    def file_done(self, result, records, counts) -> None:
        self.counts.add(counts)
        if not result.final:
            return
        if self.counts.hits:
            self.write_file(result.path, self.counts.turns_with_hits
                            if self.options.per_file == "turns" else self.counts.hits)
        self.counts = FileCounts()

    def write_file(self, path: str, count: int) -> None:
        counts = self.options.per_file in HEADINGS
        if self.writer is not None:
            self.writer.writerow([path, count] if counts else [path])
        else:
            self.out.write(f"{path}:{count}\n" if counts else f"{path}\n")
        self.out.flush()
