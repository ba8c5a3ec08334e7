"""What the walk yields: an `Input` to scan, a `Skipped` file, a `PathError`; and the
`Source` each stage of the walk hands on (a file, stdin, a pipe or an archive member)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import BinaryIO

from backrooms_scan.limits import Limits, default_limits


@dataclass(frozen=True)
class Input:
    """A file, stdin or archive member that can be opened as decompressed bytes.

    `path` is the display path (`dir/a.txt`, `dump.zip!inner/a.txt`, `-`);
    `name` the base name without a compression suffix; `size` the byte count
    when known without reading (plain files and archive members); `limits`
    what reading it may take; `notices` what reading its stream ran into that
    did not stop it, filled as it is read.
    """

    path: str
    name: str
    size: int | None
    opener: Callable[[], BinaryIO] = field(repr=False, compare=False)
    limits: Limits = field(default_factory=default_limits, repr=False, compare=False)
    notices: list[str] = field(default_factory=list, repr=False, compare=False)

    def open(self) -> BinaryIO:
        """The decompressed content from its start (see the module doc for how often)."""
        return self.opener()


@dataclass(frozen=True)
class Skipped:
    """Something seen but not scanned, with a short reason."""

    path: str
    reason: str


@dataclass(frozen=True)
class PathError:
    """A requested path that does not exist or cannot be read at all."""

    path: str
    message: str


Item = Input | Skipped | PathError


@dataclass
class Source:
    """A byte stream about to be looked at: a file, stdin, a pipe or an archive member."""

    path: str
    name: str
    size: int | None
    reopen: Callable[[], BinaryIO] | None  # None: the stream can be read only once
    in_archive: bool = False
    seekable_file: bool = False
