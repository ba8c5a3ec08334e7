"""Exit statuses, grep's convention plus one for tripped thresholds and two for signals."""

from enum import IntEnum


class ExitStatus(IntEnum):
    FOUND = 0
    NOT_FOUND = 1
    ERROR = 2
    THRESHOLD = 3
    INTERRUPTED = 130  # 128 + SIGINT
    TERMINATED = 143  # 128 + SIGTERM


class Failure(Exception):
    """An error the user sees as one line on stderr; the command exits 2."""
