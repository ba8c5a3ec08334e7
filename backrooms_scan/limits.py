"""How much reading one input may take: the decompression-bomb and whole-file limits.

`Limits` is carried by each `Input`; `default_limits()` gives the shipped values.
"""

from __future__ import annotations

from dataclasses import dataclass

KiB, MiB, GiB = 1024, 1024**2, 1024**3


MAX_DECOMPRESSED = 4 * GiB
MAX_RATIO = 1000
RATIO_GRACE = 64 * MiB
# A file a loader reads whole (one conversation of a text layout) may not be larger
# than this once decompressed: reading one takes up to about 25 times its size (a
# Turn per line of a fork log), so 16 MiB keeps a scan near 400 MB.
MAX_WHOLE_FILE = 16 * MiB
# One JSON record read whole (a JSONL line, an item of a top-level array, or a JSON document
# that is neither) may not be larger than this: reading and matching one takes about 4
# times its size (a 120 MB JSONL line: 490 MB), so 128 MiB keeps a scan under 600 MB. A
# JSONL line or array item is also measured by what its text takes in memory: 2 or 4
# bytes a character when it holds one beyond Latin-1 or beyond the BMP.
MAX_RECORD = 128 * MiB
# How long a pipe or device named on the command line may stay silent before it is skipped.
PIPE_WAIT_SECONDS = 10.0


@dataclass(frozen=True)
class Limits:
    """How much reading one input may take.

    `max_size` caps the decompressed bytes of one stream; `max_ratio` caps
    decompressed/compressed once more than `ratio_after` bytes came out;
    `max_whole_file` caps a file that is read whole into memory (see
    `read_whole`); `max_record` caps one JSON record read whole (a longer JSONL
    line or array item is skipped with a notice); `pipe_wait` is how many seconds a requested
    named pipe or device may stay silent before it is skipped.
    """

    max_size: int = MAX_DECOMPRESSED
    max_ratio: float = MAX_RATIO
    ratio_after: int = RATIO_GRACE
    max_whole_file: int = MAX_WHOLE_FILE
    pipe_wait: float = PIPE_WAIT_SECONDS
    max_record: int = MAX_RECORD


def default_limits() -> Limits:
    """The shipped limits; a scan takes others in `ScanOptions.limits`."""
    return Limits(MAX_DECOMPRESSED, MAX_RATIO, RATIO_GRACE, MAX_WHOLE_FILE, PIPE_WAIT_SECONDS,
                  MAX_RECORD)


def format_size(size: int) -> str:
    """`4 GiB`, `64 MiB`, `1000 bytes`: exact, for messages."""
    for unit, scale in (("GiB", GiB), ("MiB", MiB), ("KiB", KiB)):
        if size >= scale and size % scale == 0:
            return f"{size // scale} {unit}"
    return f"{size} bytes"
