"""SIGINT and SIGTERM, handled from the first instant, with the standard library only.

Until a command is running, a signal ends the process at once (there is nothing to
save yet, and a KeyboardInterrupt raised inside an import would print a traceback).
While a command runs, the signal becomes `Interrupted`, so the scan can write what it
has counted and remove its temp files; a second signal while that happens waits.
Worker processes ignore SIGINT (the terminal sends it to the whole group; the main
process decides) and die quietly on SIGTERM, which is how their pool stops them.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

SIGNALS = (signal.SIGINT, signal.SIGTERM)
_state = {"mode": "exit"}  # exit: before a command runs; raise: while it runs; hold: after one


class Interrupted(KeyboardInterrupt):
    """A scan stopped by a signal; `status` is the conventional 128 + signal number."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.status = 128 + signum


def _handle(signum: int, frame) -> None:
    if _state["mode"] == "exit":
        os.write(2, b"backrooms-scan: interrupted\n")
        os._exit(128 + signum)
    if _state["mode"] == "raise":
        _state["mode"] = "hold"
        raise Interrupted(signum)


def install() -> None:
    """Handle both signals from now on; a no-op outside the main thread."""
    if threading.current_thread() is threading.main_thread():
        for signum in SIGNALS:
            signal.signal(signum, _handle)


@contextmanager
def armed() -> Iterator[None]:
    """While the block runs, a signal raises `Interrupted` (once) instead of exiting."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.getsignal(signum) for signum in SIGNALS}
    install()
    _state["mode"] = "raise"
    try:
        yield
    finally:
        _state["mode"] = "exit"
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def found_in(error: BaseException) -> Interrupted | None:
    """The `Interrupted` behind `error`, if a signal caused it: one raised inside an import
    can come out wrapped (a class body's `__set_name__` turns it into a RuntimeError)."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, Interrupted):
            return error
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return None


def status_of(interrupt: KeyboardInterrupt) -> int:
    """130 for Ctrl-C (a plain KeyboardInterrupt too), 143 for SIGTERM."""
    return getattr(interrupt, "status", 128 + signal.SIGINT)


@contextmanager
def blocked() -> Iterator[None]:
    """Signals wait while worker processes are forked, so none arrives half set up."""
    old = signal.pthread_sigmask(signal.SIG_BLOCK, SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def as_worker() -> None:
    """In a worker process: ignore SIGINT, die on SIGTERM, then let signals in."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, SIGNALS)
