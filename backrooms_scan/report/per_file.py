"""`-c/--count`, `--count-matches`, `-l/--files-with-matches`: a line per file with hits.

As in ripgrep: `--count` counts what holds a match (here turns with hits),
`--count-matches` the hits themselves, `-l` names the files; files without a
counted hit are left out. Replays count only with `--count-replays`.
"""

from __future__ import annotations

import csv

from backrooms_scan.report.base import Reporter

HEADINGS = {"turns": "turns_with_hits", "hits": "hits"}


class PerFileReporter(Reporter):
    def __init__(self, out, options, *, as_csv: bool = False):
        super().__init__(out, options)
        self.hits = 0
        self.turns: set[tuple[str, int]] = set()
        self.writer = csv.writer(out, lineterminator="\n") if as_csv else None
        if self.writer is not None:
            self.writer.writerow(["path"] + ([HEADINGS[options.per_file]]
                                             if options.per_file in HEADINGS else []))

    def file_done(self, result, records) -> None:
        counted = [r for r in records if self.options.count_replays or not r.replay]
        self.hits += len(counted)
        self.turns.update((r.hit.turn.conversation, r.hit.turn.index) for r in counted)
        if not result.final:
            return
        if self.hits:
            self.write_file(result.path, len(self.turns) if self.options.per_file == "turns"
                            else self.hits)
        self.hits, self.turns = 0, set()

    def write_file(self, path: str, count: int) -> None:
        counts = self.options.per_file in HEADINGS
        if self.writer is not None:
            self.writer.writerow([path, count] if counts else [path])
        else:
            self.out.write(f"{path}:{count}\n" if counts else f"{path}\n")
        self.out.flush()
