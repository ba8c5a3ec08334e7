"""Reporters: one per output mode, all fed the same stream of file results and hits."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TextIO

from backrooms_scan.dimensions import DEFAULT_BY

OUTPUT_FORMATS = ("table", "plain", "json", "jsonl", "csv", "grep", "html")
MERGE_FORMATS = ("json", "plain", "table")  # what merge prints: the summary formats


@dataclass(frozen=True)
class ReportOptions:
    context: int = 60
    max_snippets: int | None = 3  # None: every snippet
    snippet_order: str = "file"
    snippets: bool = True
    count_only: bool = False
    include_hits: bool = False
    by: tuple[str, ...] = DEFAULT_BY
    chart: bool = False
    color: bool = True
    width: int | None = None  # the terminal's, when writing to one
    per_file: str | None = None  # -c "turns", --count-matches "hits", -l "files"
    count_replays: bool = False
    max_columns: int = 400  # -f grep: a longer line is cut around each hit (0: never)
    extra: dict = field(default_factory=dict)


def make_reporter(name: str, out: TextIO, options: ReportOptions):
    """The reporter for output format `name`, writing to `out`."""
    if options.per_file:
        from backrooms_scan.report.per_file import PerFileReporter

        return PerFileReporter(out, options, as_csv=name == "csv")
    if name == "jsonl":
        from backrooms_scan.report.jsonl import JsonlReporter as reporter
    elif name == "json":
        from backrooms_scan.report.json_summary import JsonReporter as reporter
    elif name == "csv":
        from backrooms_scan.report.csv_rows import CsvReporter as reporter
    elif name == "grep":
        from backrooms_scan.report.grep import GrepReporter as reporter
    elif name == "html":
        from backrooms_scan.report.html import HtmlReporter as reporter
    elif name == "table":
        from backrooms_scan.report.table import TableReporter as reporter
    else:
        from backrooms_scan.report.plain import PlainReporter as reporter
    return reporter(out, options)
