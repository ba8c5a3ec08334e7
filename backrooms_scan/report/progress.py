"""A progress line on stderr that appears only once a scan has run for a second."""

from __future__ import annotations

import time


class LazyProgress:
    DELAY_SECONDS = 1.0

    def __init__(self, enabled: bool, stderr=None):
        self.enabled = enabled
        self.stderr = stderr
        self.started = time.perf_counter()
        self.files = 0
        self.progress = None
        self.task = None

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        if self.progress is not None:
            self.progress.stop()

    def advance(self, path: str) -> None:
        self.files += 1
        if not self.enabled:
            return
        if self.progress is None and time.perf_counter() - self.started > self.DELAY_SECONDS:
            self._start()
        if self.progress is not None:
            self.progress.update(self.task, completed=self.files, description=path[-50:])

    def _start(self) -> None:
        from rich.console import Console
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.progress = Progress(SpinnerColumn(), TextColumn("{task.completed} files"),
                                 TextColumn("{task.description}"), TimeElapsedColumn(),
                                 console=Console(file=self.stderr, stderr=self.stderr is None), transient=True)
        self.task = self.progress.add_task("", total=None)
        self.progress.start()
