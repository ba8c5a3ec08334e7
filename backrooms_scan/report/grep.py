"""`--format grep`: `path:line:col:set/pattern:line text`, one line per hit."""

from __future__ import annotations

from backrooms_scan.report.base import Reporter, pattern_totals
from backrooms_scan.report.snippets import show_command


def source_line(text: str, start: int) -> str:
    """The whole line of `text` holding offset `start`."""
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", start)
    return text[line_start : None if line_end < 0 else line_end]


class GrepReporter(Reporter):
    """On a terminal, each turn's hit lines are followed by the `show` command printing
    that turn; piped, only the grep lines are written, for editors and scripts."""

    def file_done(self, result, records) -> None:
        if self.options.count_only:
            return
        on_terminal = self.options.width is not None
        for i, record in enumerate(records):
            hit = record.hit
            line, column = hit.position
            text = source_line(hit.turn.text, hit.start)
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
