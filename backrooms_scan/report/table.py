"""`--format table`: rich tables, highlighted snippets and an optional bar chart."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from backrooms_scan.report.base import pattern_totals
from backrooms_scan.report.human import (
    BREAKDOWN_COLUMNS,
    PATTERN_COLUMNS,
    RELATION_HEADER,
    HumanReporter,
    breakdown_note,
    breakdown_rows,
    chart_series,
    footer_line,
    format_rate,
    keyword_column,
    patterns_note,
    relation_rows,
    shortened,
)

BAR_WIDTH = 40
NUMBER_COLUMNS_WIDTH = 44  # the least the count columns take (headers wrapped), borders included


class ReportConsole(Console):
    def on_broken_pipe(self) -> None:
        """Let the caller end quietly with the hit status; rich's own way exits 1."""
        raise BrokenPipeError


class TableReporter(HumanReporter):
    def __init__(self, out, options):
        super().__init__(out, options)
        # Without colour, rich must not think it writes to a terminal, or bold stays in.
        self.console = ReportConsole(file=out, highlight=False, force_terminal=options.color,
                                     color_system="auto" if options.color else None,
                                     width=options.width)

    def finish(self, tally, summary, footer) -> None:
        print_ = self.console.print
        if self.options.count_only:  # tab-separated as documented; rich would expand the tabs
            for name, hits in pattern_totals(summary):
                self.out.write(f"{name}\t{hits}\n")
            return
        print_(self.patterns_table(summary))
        for dimension, rows in summary["by"].items():
            print_(self.breakdown_table(dimension, rows, self.console.width))
        if summary["relations"]:
            print_(self.relations_table(summary))
        if self.options.chart:
            for dimension, series in chart_series(tally).items():
                print_(self.chart(dimension, series))
        for name, snippets in self.snippet_sections(summary):
            print_(Text(name, style="bold"))
            room = self.console.width - 4
            width = min(keyword_column(snippets), room // 2)
            for s in snippets:
                location = shortened(s.location, self.console.width - 2)
                where = Text("  " + location, style="cyan")
                if len(location) + len(s.speaker) + 4 <= self.console.width:
                    where.append(f"  {s.speaker}", style="dim")
                else:  # the location keeps its line:col; the speaker gets a line of its own
                    where.append("\n    " + s.speaker, style="dim")
                print_(where, no_wrap=True, overflow="ellipsis")
                match = s.match if self.options.color else f"[{s.match}]"
                line = Text("    ")
                line.append(s.left[len(s.left) - width:].rjust(width) if width else "")
                line.append(match, style="bold black on yellow")
                line.append(s.right[: max(0, room - width - len(match))])
                print_(line, no_wrap=True, overflow="ellipsis")
        print_(Text(footer_line(summary, footer), style="dim"))

    @staticmethod
    def patterns_table(summary: dict) -> Table:
        """A row per set with its distinct occurrences, then its patterns' own counts."""
        table = Table(title="Pattern hits", title_justify="left", caption=patterns_note(summary),
                      caption_justify="left")
        table.add_column("set / pattern", no_wrap=True)
        hits, turns, convs, rate_heading = PATTERN_COLUMNS
        for heading in (hits, "distinct", turns, convs, rate_heading):
            table.add_column(heading, justify="right")
        sets = {row["set"]: row for row in summary["sets"]}
        current_set = None
        for row in summary["patterns"]:
            if row["set"] != current_set:
                current_set = row["set"]
                whole = sets[current_set]
                table.add_row(Text(current_set, style="bold"), str(whole["hits"]),
                              str(whole["occurrences"]), str(whole["turns"]),
                              str(whole["conversations"]),
                              format_rate(whole["rate_per_1000_turns"]), style="bold")
            style = None if row["hits"] else "dim"
            table.add_row(f"  {row['pattern']}", str(row["hits"]), "", str(row["turns"]),
                          str(row["conversations"]), format_rate(row["rate_per_1000_turns"]),
                          style=style)
        return table

    @staticmethod
    def breakdown_table(dimension: str, rows: list[dict], width: int = 80) -> Table:
        """Values too long for the terminal are shortened in the middle, never wrapped."""
        table = Table(title=f"By {dimension}", title_justify="left",
                      caption=breakdown_note(dimension), caption_justify="left")
        table.add_column(dimension, no_wrap=True)
        for heading in BREAKDOWN_COLUMNS:
            table.add_column(heading, justify="right")
        room = max(16, width - NUMBER_COLUMNS_WIDTH)
        for value, *counts in breakdown_rows(rows):
            table.add_row(shortened(value, room), *counts)
        return table

    @staticmethod
    def relations_table(summary: dict) -> Table:
        table = Table(title="Origin and echo (conversations)", title_justify="left")
        for i, heading in enumerate(RELATION_HEADER):
            table.add_column(heading, overflow="fold", justify="left" if i < 2 else "right")
        for row in relation_rows(summary):
            table.add_row(*map(str, row))
        return table

    @staticmethod
    def chart(dimension: str, series: list[tuple[str, int]]) -> Table:
        table = Table(title=f"Hits per {dimension}", title_justify="left", show_header=False,
                      box=None)
        table.add_column(dimension)
        table.add_column("bar")
        top = max((n for _, n in series), default=0) or 1
        for value, hits in series:
            bar = Text("█" * max(1, round(hits * BAR_WIDTH / top)), style="magenta")
            bar.append(f" {hits}")
            table.add_row(value or "(unknown)", bar)
        return table
