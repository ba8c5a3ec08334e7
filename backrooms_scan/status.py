"""Exit statuses, grep's convention plus one for tripped thresholds."""

from enum import IntEnum


class ExitStatus(IntEnum):
    FOUND = 0
    NOT_FOUND = 1
    ERROR = 2
    THRESHOLD = 3
    INTERRUPTED = 130
