"""A swappable Environment for CLI tests: buffers for streams, chosen TTY flags."""

from __future__ import annotations

import io
from dataclasses import dataclass

from backrooms_scan.cli import main
from backrooms_scan.environment import Environment


def mock_environment(*, tty: bool = False, stderr_tty: bool | None = None, stdin: bytes = b"",
                     environ: dict | None = None, width: int = 80) -> Environment:
    """A terminal (`tty=True`) or a pipe; stderr is a terminal with stdout unless told."""
    return Environment(stdin=io.BytesIO(stdin), stdout=io.StringIO(), stderr=io.StringIO(),
                       stdin_isatty=False, stdout_isatty=tty,
                       stderr_isatty=tty if stderr_tty is None else stderr_tty,
                       environ=environ or {}, terminal_width=width)


@dataclass
class Outcome:
    status: int
    stdout: str
    stderr: str


def invoke(*args: str, **environment) -> Outcome:
    """Run one command line in a mock environment and return what it did."""
    env = mock_environment(**environment)
    status = main.main(list(args), standalone_mode=False, obj=env)
    return Outcome(status, env.stdout.getvalue(), env.stderr.getvalue())
