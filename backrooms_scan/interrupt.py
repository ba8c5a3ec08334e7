"""SIGINT and SIGTERM, handled from the first instant, with the standard library only.

Until a command is running, a signal calls the `end` the entry point installed, which
ends the process at once (there is nothing to save yet, and a KeyboardInterrupt raised
inside an import would print a traceback); this module itself never exits.
While a command runs, the signal becomes `Interrupted`, so the scan can write what it
has counted and remove its temp files; a second signal while that happens waits.
Worker processes ignore SIGINT (the terminal sends it to the whole group; the main
process decides) and die quietly on SIGTERM, which is how their pool stops them.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial

SIGNALS = (signal.SIGINT, signal.SIGTERM)
# mode "exit": before a command runs; "raise": while it runs; "hold": after one was raised.
# end: what a signal does in mode "exit" (None: raise Interrupted, as while a command runs).
# raised: the signal raised as Interrupted while the command runs, if one was.
_state: dict = {"mode": "exit", "end": None, "raised": None}


class Interrupted(KeyboardInterrupt):
    """A scan stopped by a signal; `status` is the conventional 128 + signal number."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.status = 128 + signum


def _handle(signum: int, frame) -> None:
    if _state["mode"] == "exit":
        if _state["end"] is None:
            raise Interrupted(signum)
        _state["end"](signum)
    elif _state["mode"] == "raise":
        _state["mode"] = "hold"
        _state["raised"] = signum
        raise Interrupted(signum)


def install(end: Callable[[int], None] | None = None) -> None:
    """Handle both signals from now on, calling `end(signum)` if one comes before a
    command runs (kept from an earlier call when not given); a no-op outside the main thread."""
    if end is not None:
        _state["end"] = end
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
    previous_hook = sys.unraisablehook
    install()
    _state.update(mode="raise", raised=None)
    sys.unraisablehook = partial(_quiet_about_signals, previous_hook)
    try:
        yield
    finally:
        _state.update(mode="exit", raised=None)
        sys.unraisablehook = previous_hook
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _quiet_about_signals(report: Callable, unraisable) -> None:
    """`sys.unraisablehook` while a command runs: an `Interrupted` raised where Python can
    only drop it (see `signalled`) is not printed as a traceback."""
    if not isinstance(unraisable.exc_value, Interrupted):
        report(unraisable)


def signalled() -> Interrupted | None:
    """The `Interrupted` a signal raised while the command runs, even where some code
    swallowed it: Python only prints an exception raised inside a finalizer (a generator
    closed as it is freed, say), and the command would go on as if no signal had come."""
    signum = _state["raised"]
    return None if signum is None else Interrupted(signum)


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
