"""Unreadable paths, skipped files and notices, told on stderr.

An unreadable path the user named is an error and always gets its own line. Skips
and notices get a line each when stderr is read by a program or with --verbose; on
a terminal they are gathered into one line per kind, with a count, at the end, so a
dump of thousands of files does not bury the progress bar.
"""

from __future__ import annotations

import difflib
from collections import Counter
from typing import TextIO

from backrooms_scan.scan import FileResult
from backrooms_scan.select import Selection, matches
from backrooms_scan.tally import problem_kind

HINT = "--verbose lists them"
VALUES_SHOWN = 8


class ProblemLog:
    def __init__(self, stderr: TextIO, prog: str, *, grouped: bool, quiet: bool):
        self.stderr = stderr
        self.prog = prog
        self.grouped = grouped
        self.quiet = quiet
        self.skips: Counter = Counter()
        self.notices: Counter = Counter()
        self.first: dict[tuple[str, str], str] = {}  # the whole line of a kind's first case

    def say(self, message: str) -> None:
        self.stderr.write(f"{self.prog}: {message}\n")
        self.stderr.flush()

    def add(self, result: FileResult) -> None:
        if result.error is not None:
            self.say(f"{result.path}: {result.error}")
            return
        if self.quiet:
            return
        if result.skipped is not None:
            self._tell("skip", result.skipped, f"skipped {result.path}: {result.skipped}")
        for notice in result.notices:
            self._tell("notice", notice.message, str(notice))

    def _tell(self, what: str, message: str, line: str) -> None:
        if not self.grouped:
            self.say(line)
            return
        kind = problem_kind(message)
        (self.skips if what == "skip" else self.notices)[kind] += 1
        self.first.setdefault((what, kind), line)

    def finish(self) -> None:
        """The grouped lines: a kind met once is told whole, others with a count."""
        for kind, count in self.skips.most_common():
            self.say(self.first[("skip", kind)] if count == 1
                     else f"{count} files skipped: {kind} ({HINT})")
        for kind, count in self.notices.most_common():
            self.say(self.first[("notice", kind)] if count == 1
                     else f"{count} notices: {kind} ({HINT})")

    def filters_left_nothing(self, selection: Selection, values_seen: set[tuple[str, str]],
                             turns_searched: int) -> None:
        """A filter that selects nothing says so, with the values there are."""
        if self.quiet:
            return
        for name, patterns in selection.filters().items():
            values = sorted({value for field, value in values_seen if field == name})
            for pattern in patterns:
                if not any(matches(value, pattern) for value in values):
                    self.say(no_match_line(name, pattern, values))
        if not turns_searched and (selection.filters() or selection.since or selection.until):
            self.say("no turn passed the filters; the report counts nothing")


def no_match_line(name: str, pattern: str, values: list[str]) -> str:
    line = f"--{name} {pattern!r} matches no {name}"
    if not values:
        return f"{line}: no turn has one"
    guess = closest(pattern, values)
    if guess is not None:
        line += f"; did you mean {guess!r}?"
    shown = ", ".join(values[:VALUES_SHOWN])
    more = f" and {len(values) - VALUES_SHOWN} more" if len(values) > VALUES_SHOWN else ""
    return f"{line} ({name}s seen: {shown}{more})"


def closest(pattern: str, values: list[str]) -> str | None:
    """The value most like `pattern`, as a whole or as its start (filters match substrings)."""
    wanted = pattern.casefold().strip("*")

    def likeness(value: str) -> float:
        folded = value.casefold()
        return max(difflib.SequenceMatcher(None, wanted, folded).ratio(),
                   difflib.SequenceMatcher(None, wanted, folded[: len(wanted)]).ratio())

    best = max(values, key=likeness)
    return best if likeness(best) >= 0.6 else None
