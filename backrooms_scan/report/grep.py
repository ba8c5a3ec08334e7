"""`--format grep`: `path:line:col:set/pattern:line text`, one line per hit.

A line longer than `max_columns` characters is not printed whole for each of its hits
(a line of 300 KB with 28,000 hits would print 8 GB): the hit is shown in a window of
`max_columns` characters of its line, starting up to a quarter of that before the hit,
with CUT_MARK where the line goes on. 0 prints whole lines.
"""

from __future__ import annotations

from backrooms_scan.report.base import Reporter, pattern_totals
from backrooms_scan.report.events import HitPositions
from backrooms_scan.report.snippets import show_command

MAX_COLUMNS = 400
CUT_MARK = "[...]"


def source_line(text: str, start: int, max_columns: int = 0) -> str:
    """The line of `text` holding offset `start`; when it is longer than `max_columns`
    (0: no limit), a window of that many characters of it from up to a quarter of that
    before `start`, with CUT_MARK where the line goes on. Looks no further than the
    window, so each hit costs the same however long its line is."""
    if max_columns <= 0:
        line_start = text.rfind("\n", 0, start) + 1
        line_end = text.find("\n", start)
        return text[line_start : None if line_end < 0 else line_end]
    reach = max(0, start - max_columns)
    line_start = text.rfind("\n", reach, start) + 1 or reach
    line_end = text.find("\n", start, start + max_columns + 1)
    line_end = len(text) if line_end < 0 and start + max_columns >= len(text) else line_end
    if line_end >= 0 and line_end - line_start <= max_columns and (
            line_start == 0 or text[line_start - 1] == "\n"):
        return text[line_start:line_end]
    window_start = max(line_start, start - max_columns // 4)
    window_end = window_start + max_columns
    if line_end >= 0:
        window_end = min(window_end, line_end)
    cut_before = window_start > 0 and text[window_start - 1] != "\n"
    cut_after = window_end < len(text) and text[window_end] != "\n"
    return (CUT_MARK if cut_before else "") + text[window_start:window_end] + (
        CUT_MARK if cut_after else "")


class GrepReporter(Reporter):
    """On a terminal, each turn's hit lines are followed by the `show` command printing
    that turn; piped, only the grep lines are written, for editors and scripts."""

    def file_done(self, result, records, counts) -> None:
        if self.options.count_only:
            return
        on_terminal = self.options.width is not None
        max_columns = self.options.max_columns
        positions = HitPositions()
        for i, record in enumerate(records):
            hit = record.hit
            line, column = positions.of(hit)
            text = source_line(hit.turn.text, hit.start, max_columns)
            self.out.write(f"{hit.turn.source}:{line}:{column}:{hit.set}/{hit.pattern}:{text}\n")
            last_of_turn = i + 1 == len(records) or records[i + 1].hit.turn is not hit.turn
            command = show_command(hit.turn.source, hit.turn.line) if last_of_turn else None
            if on_terminal and command:
                self.out.write(f"  {command}\n")
        self.out.flush()

    def finish(self, tally, summary, footer) -> None:
        if self.options.count_only:
            for name, hits in pattern_totals(summary):
                self.out.write(f"{name}:{hits}\n")
