"""What a command needs of the process around it: streams, TTY flags, colour, width, name.

Commands receive one Environment; tests swap it for one whose streams are buffers
and whose TTY flags they choose, so terminal and piped output are both tested.
"""

from __future__ import annotations

import io
import os
import shutil
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import BinaryIO, TextIO

PROG = "backrooms-scan"
COLOR_CHOICES = ("auto", "always", "never")


class ClosedStream(io.TextIOBase):
    """Stands in for a stream the process was started without (`>&-`): writing fails."""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        raise OSError(9, "Bad file descriptor")

    def flush(self) -> None:
        return None


@dataclass
class Environment:
    stdin: BinaryIO
    stdout: TextIO
    stderr: TextIO
    stdin_isatty: bool = False
    stdout_isatty: bool = False
    stderr_isatty: bool = False
    environ: Mapping[str, str] = field(default_factory=dict)
    terminal_width: int = 80
    program_name: str = PROG

    @classmethod
    def from_process(cls) -> Environment:
        """The real streams; a closed one is replaced by a stand-in that fails on write."""
        stdout = sys.stdout if sys.stdout is not None else ClosedStream()
        stderr = sys.stderr if sys.stderr is not None else io.StringIO()
        stdin = getattr(sys.stdin, "buffer", None) or io.BytesIO()
        return cls(
            stdin=stdin,
            stdout=stdout,
            stderr=stderr,
            stdin_isatty=_isatty(sys.stdin),
            stdout_isatty=_isatty(sys.stdout),
            stderr_isatty=_isatty(sys.stderr),
            environ=os.environ,
            terminal_width=shutil.get_terminal_size().columns,
        )

    def color(self, choice: str = "auto") -> bool:
        """Whether stdout gets colour: --color, then NO_COLOR / FORCE_COLOR, then the TTY."""
        if choice != "auto":
            return choice == "always"
        if self.environ.get("NO_COLOR"):
            return False
        if self.environ.get("FORCE_COLOR"):
            return True
        return self.stdout_isatty

    def flush_stdout(self) -> str | None:
        """Flush stdout; the reason it failed (closed, full), if it did. A broken pipe raises."""
        try:
            self.stdout.flush()
        except BrokenPipeError:
            raise
        except (OSError, ValueError) as error:
            self.silence_stdout()
            return (getattr(error, "strerror", None) or str(error)).lower()
        return None

    def silence_stdout(self) -> None:
        """Point the real stdout at /dev/null, so the interpreter's last flush cannot fail."""
        if self.stdout is not sys.stdout or sys.stdout is None:
            return
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass

    def error(self, message: str) -> None:
        """One line on stderr, prefixed with the program's name."""
        self.stderr.write(f"{self.program_name}: {message}\n")
        self.stderr.flush()


def _isatty(stream) -> bool:
    try:
        return bool(stream is not None and stream.isatty())
    except (OSError, ValueError, AttributeError):
        return False
