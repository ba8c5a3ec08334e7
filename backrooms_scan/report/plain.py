"""`--format plain`: the summary as aligned text with no colour codes."""

from __future__ import annotations

from backrooms_scan.report.base import pattern_totals
from backrooms_scan.report.human import (
    BREAKDOWN_COLUMNS,
    PATTERN_COLUMNS,
    RELATION_HEADER,
    SET_COLUMNS,
    HumanReporter,
    breakdown_note,
    breakdown_rows,
    chart_series,
    footer_line,
    keyword_column,
    pattern_rows,
    patterns_note,
    relation_rows,
    set_rows,
)

BAR_WIDTH = 40


def aligned(rows: list[tuple], header: tuple, left: int = 1) -> list[str]:
    """Text columns, the first `left` of them left-aligned and the rest right-aligned."""
    table = [tuple(str(c) for c in header)] + [tuple(str(c) for c in row) for row in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    lines = []
    for row in table:
        cells = [c.ljust(w) if i < left else c.rjust(w)
                 for i, (c, w) in enumerate(zip(row, widths))]
        lines.append("  ".join(cells).rstrip())
    return lines


class PlainReporter(HumanReporter):
    def write(self, line: str = "") -> None:
        self.out.write(line + "\n")

    def finish(self, tally, summary, footer) -> None:
        if self.options.count_only:
            for name, hits in pattern_totals(summary):
                self.write(f"{name}\t{hits}")
            return
        for line in aligned(pattern_rows(summary), ("pattern", *PATTERN_COLUMNS)):
            self.write(line)
        self.write()
        for line in aligned(set_rows(summary), ("set", *SET_COLUMNS)):
            self.write(line)
        self.write(f"({patterns_note(summary)})")
        for dimension, rows in summary["by"].items():
            self.write()
            self.write(f"by {dimension}")
            for line in aligned(breakdown_rows(rows), (dimension, *BREAKDOWN_COLUMNS)):
                self.write("  " + line)
            self.write(f"  ({breakdown_note(dimension)})")
        if summary["relations"]:
            self.write()
            self.write("origin and echo (conversations)")
            for line in aligned(relation_rows(summary), RELATION_HEADER, left=2):
                self.write("  " + line)
        if self.options.chart:
            self.write_chart(tally)
        if self.snippets:
            self.write()
            self.write("snippets")
            for name, snippets in self.snippet_sections(summary):
                self.write(name)
                width = keyword_column(snippets)
                for s in snippets:
                    self.write(f"  {s.location}  {s.speaker}")
                    self.write(f"    {s.left.rjust(width)}[{s.match}]{s.right}")
                    if s.show:
                        self.write(f"    {s.show}")
        self.write()
        self.write(footer_line(summary, footer))

    def write_chart(self, tally) -> None:
        for dimension, series in chart_series(tally).items():
            self.write()
            self.write(f"hits per {dimension}")
            top = max((n for _, n in series), default=0) or 1
            label_width = max((len(v or "(unknown)") for v, _ in series), default=0)
            for value, hits in series:
                bar = "#" * max(1, round(hits * BAR_WIDTH / top))
                self.write(f"  {(value or '(unknown)').ljust(label_width)}  {bar} {hits}")
