"""A progress bar on stderr, shown once a scan has run for a second, on a terminal only.

It counts files and bytes done of the total the walk's stat sizes give, with the rate
and the time left. When an archive, stdin or a pipe is among the inputs the totals are
unknown until the end: the bar then shows what is done and the rate, without a time left.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

from backrooms_scan.environment import Environment
from backrooms_scan.scan import FileResult, UnitSize

if TYPE_CHECKING:  # rich is imported once the bar is shown, not when the program starts
    from rich.console import Console
    from rich.progress import Progress

# What the columns other than the path take, so the path gets the rest of the line.
OTHER_COLUMNS_WIDTH = 72
WORD_START = re.compile(r"(?<=[/\\ ._-])(?=[^/\\ ._-])")


def shortened(path: str, width: int) -> str:
    """`path` in at most `width` characters: its head dropped at a word's start, never mid-word;
    empty when not even its last word fits."""
    if len(path) <= width:
        return path
    for start in (m.start() for m in WORD_START.finditer(path)):
        if len(path) - start + 1 <= width:
            return "…" + path[start:]
    return ""


def progress_console(env: Environment) -> Console:
    """stderr as the terminal it is; the bar is shown only when it is one."""
    from rich.console import Console

    return Console(file=env.stderr, force_terminal=True, width=env.terminal_width)


class ScanProgress:
    """Driven with each unit's results; disabled (it shows nothing) without a console."""

    DELAY_SECONDS = 1.0

    def __init__(self, console: Console | None, sizes: Mapping[int, UnitSize],
                 delay: float | None = None):
        self.console = console
        self.sizes = sizes
        self.delay = self.DELAY_SECONDS if delay is None else delay
        self.started = time.perf_counter()
        self.total_files = len(sizes) if all(s.one_file for s in sizes.values()) else None
        self.total_bytes = sum(s.size for s in sizes.values()) if self.total_files is not None else None
        self.files = 0
        self.bytes = 0
        self.unit: int | None = None
        self.unit_counted = False
        self.progress: Progress | None = None
        self.task = None

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self._count_unit_bytes()  # the last unit's, when it was an archive
        if self.progress is not None:
            self.progress.update(self.task, completed=self.bytes)
            self.progress.stop()

    def advance(self, index: int, result: FileResult) -> None:
        """One result of the unit at `index` (units come in order, a unit's results together)."""
        if index != self.unit:
            self._count_unit_bytes()
            self.unit, self.unit_counted = index, False
        if result.final:
            self.files += 1
            if self.sizes[index].one_file:
                self._count_unit_bytes()
        if self.total_files is not None and self.files > self.total_files:
            self.total_files = self.total_bytes = None  # an archive its name did not tell
        if self.console is None:
            return
        if self.progress is None and time.perf_counter() - self.started >= self.delay:
            self._start()
        if self.progress is not None:
            self.progress.update(self.task, total=self.total_bytes, completed=self.bytes, files=self._files_text(),
                                 path=shortened(result.path, self._path_width()))

    def write(self, text: str) -> int:
        """Print lines above the bar rather than through it; a stand-in for stderr."""
        for line in text.splitlines():
            self.console.print(line, markup=False, highlight=False, emoji=False, soft_wrap=True)
        return len(text)

    def flush(self) -> None:
        self.console.file.flush()

    def _count_unit_bytes(self) -> None:
        if self.unit is not None and not self.unit_counted:
            self.bytes += self.sizes[self.unit].size
            self.unit_counted = True

    def _files_text(self) -> str:
        if self.total_files is None:
            return f"{self.files} files"
        return f"{self.files}/{self.total_files} files"

    def _path_width(self) -> int:
        return max(0, self.console.width - OTHER_COLUMNS_WIDTH)

    def _start(self) -> None:
        from rich import progress as bar

        self.progress = bar.Progress(bar.SpinnerColumn(), bar.TextColumn("{task.fields[files]}"),
                                     bar.BarColumn(bar_width=20),
                                     bar.DownloadColumn(),
                                     bar.TransferSpeedColumn(), time_left_column(),
                                     bar.TextColumn("{task.fields[path]}"),
                                     console=self.console, transient=True,
                                     redirect_stdout=False, redirect_stderr=False)
        self.task = self.progress.add_task("", total=self.total_bytes, completed=self.bytes,
                                           files=self._files_text(), path="")
        self.progress.start()


def time_left_column():
    """The time left, or nothing while the total is unknown."""
    from rich.progress import ProgressColumn, TimeRemainingColumn
    from rich.text import Text

    class TimeLeftColumn(ProgressColumn):
        known = TimeRemainingColumn()

        def render(self, task) -> Text:
            return self.known.render(task) if task.total is not None else Text("")

    return TimeLeftColumn()
