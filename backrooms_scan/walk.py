"""Paths, directories, pipes and stdin -> byte streams, through compression and archives.

`iter_inputs` turns what the user named into a deterministic sequence of
`Input` (something to scan), `Skipped` (seen, not scanned, with a reason) and
`PathError` (a requested path that cannot be read at all). It does so in two steps
that callers may also take apart, e.g. to hand files to other processes:
`iter_files` walks the paths without opening anything, and `inputs_of` reads what it
`Found`.

Nothing is ever extracted to disk: archive members are read in place, and
archives are streamed. Hence the one rule for callers: **consume the items in
order, one at a time** — open an Input (and finish with its stream) before
asking for the next item. Stdin, requested pipes and tar members can be opened
once, and only until the next item is produced; zip members until the walk
leaves their archive; files whenever, and afresh on each call.

Reading a stream from `Input.open()` may raise:
- `BrokenInput` — corrupt or truncated compressed data or archive member
  (reason such as "broken gzip stream: ..." or "broken archive: ...");
- `InputTooLarge` — decompressed data beyond `Limits` (a decompression bomb).
Both are `InputError`s with a `reason` meant for the "skipped" report.
Problems already visible in the first bytes come out as `Skipped` instead.
Problems that stop a stream without spoiling what came before (bytes after the
end of a compressed stream) are added to `Input.notices` as the stream is read.

Every file and every archive member gets an item, except directories, whose
files have their own; an archive with no file at all is `Skipped` itself.

The walk's parts each have their module: `inputs` (the items), `limits` (how much
reading may take), `streams` (peeking, capped reads, the errors), `compression` and
`archives`. What other modules import from `walk` is re-exported here.
"""

from __future__ import annotations

import io
import os
import select
import stat
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from typing import BinaryIO

from backrooms_scan.archives import archive_kind, iter_tar, iter_zip
from backrooms_scan.compression import Codec, decompressing, detect_codec, strip_compression_suffix
from backrooms_scan.inputs import Input, Item, PathError, Skipped, Source
from backrooms_scan.limits import GiB, KiB, Limits, MiB, default_limits, format_size
from backrooms_scan.streams import (
    PEEK_SIZE,
    STREAM_BUFFER,
    BrokenInput,
    InputError,
    InputTooLarge,
    read_up_to,
    read_whole,
    with_head,
)

__all__ = [
    "BrokenInput", "Found", "GiB", "Input", "InputError", "InputTooLarge", "Item", "KiB",
    "Limits", "MiB", "PathError", "Skipped", "archive_kind", "default_limits", "detect_codec",
    "format_size", "inputs_of", "iter_files", "iter_inputs", "read_up_to", "read_whole",
    "strip_compression_suffix", "with_head",
]

def iter_inputs(
    paths: Sequence[str],
    stdin: BinaryIO | None = None,
    *,
    limits: Limits | None = None,
) -> Iterator[Item]:
    """Everything to scan under `paths`, in order; `-` reads `stdin` (none given: empty)."""
    for found in iter_files(paths):
        yield from inputs_of(found, stdin, limits=limits) if isinstance(found, Found) else (found,)


def inputs_of(found: Found, stdin: BinaryIO | None = None, *,
              limits: Limits | None = None) -> Iterator[Item]:
    """What a found file holds: one Input, an archive's members, or why it is skipped."""
    return _Reader(limits or default_limits(), stdin).found(found)


@dataclass(frozen=True)
class Found:
    """A file (or `-`) the walk found, not yet opened, and whether the user named it
    rather than a directory holding it; `info` is its stat, if it has one."""

    path: str
    requested: bool
    info: os.stat_result | None = None


_Key = tuple[int, int]  # (device, inode): what a file or directory is, whatever its path


class _FileWalk:
    """Requested paths -> files, directories expanded; nothing is opened.

    Directories are walked depth first with a stack, not by recursion, so any depth
    is fine. A file or directory met again (named twice, or a path and its parent)
    is skipped the second time, saying where it was first met.
    """

    def __init__(self) -> None:
        self.walked: dict[_Key, str] = {}
        self.files: dict[_Key, str] = {}
        self.stdin_found = False

    def requested(self, path: str) -> Iterator[Found | Skipped | PathError]:
        if path == "-":
            yield Skipped(path, "stdin already read") if self.stdin_found else Found(path, True)
            self.stdin_found = True
            return
        try:
            info = os.stat(path)
        except OSError as error:
            yield PathError(path, _describe(error))
            return
        if stat.S_ISDIR(info.st_mode):
            yield from self._tree(path, info)
        else:
            # A requested pipe or device is read as a one-shot stream, like stdin.
            yield self._file(path, info, requested=True)

    def _file(self, path: str, info: os.stat_result, requested: bool) -> Found | Skipped:
        key = (info.st_dev, info.st_ino)
        if info.st_ino and key in self.files:
            return Skipped(path, f"already read as {self.files[key]}")
        self.files[key] = path
        return Found(path, requested, info)

    def _tree(self, root: str, info: os.stat_result) -> Iterator[Found | Skipped | PathError]:
        listing = self._listing(root, info, (), requested=True)
        if not isinstance(listing, list):
            yield listing
            return
        # Each level: the entries still to visit, and the directories above them.
        stack = [(iter(listing), ((info.st_dev, info.st_ino),))]
        while stack:
            entries, ancestors = stack[-1]
            entry = next(entries, None)
            if entry is None:
                stack.pop()
                continue
            found = self._entry(entry)
            if not isinstance(found, os.stat_result):
                if found is not None:
                    yield found
                continue
            below = self._listing(entry.path, found, ancestors)
            if isinstance(below, list):
                stack.append((iter(below), ancestors + ((found.st_dev, found.st_ino),)))
            else:
                yield below

    def _listing(
        self, path: str, info: os.stat_result, ancestors: tuple[_Key, ...], requested: bool = False
    ) -> list[os.DirEntry] | Skipped | PathError:
        """A directory's entries in name order, or why it is not walked."""
        key = (info.st_dev, info.st_ino)
        if key in ancestors:
            return Skipped(path, "symlink loop")
        if key in self.walked:
            return Skipped(path, f"already walked as {self.walked[key]}")
        self.walked[key] = path
        try:
            with os.scandir(path) as listing:
                return sorted(listing, key=lambda entry: entry.name)
        except OSError as error:
            if requested:
                return PathError(path, _describe(error))
            return Skipped(path, f"unreadable: {_describe(error)}")

    def _entry(self, entry: os.DirEntry) -> os.stat_result | Found | Skipped | None:
        """A directory to walk (its stat), a file, a skip, or None for `.git`."""
        try:
            info = entry.stat()  # follows symlinks
        except FileNotFoundError:
            return Skipped(entry.path, "broken symlink")
        except OSError as error:
            return Skipped(entry.path, f"unreadable: {_describe(error)}")
        if stat.S_ISDIR(info.st_mode):
            return None if entry.name == ".git" else info
        if not stat.S_ISREG(info.st_mode):
            # Reading a fifo met on the way could block forever.
            return Skipped(entry.path, "not a regular file")
        if not os.access(entry.path, os.R_OK):
            return Skipped(entry.path, "unreadable: permission denied")
        return self._file(entry.path, info, requested=False)


def iter_files(paths: Sequence[str]) -> Iterator[Found | Skipped | PathError]:
    """The files (and `-`) under `paths` in walk order, archives left whole, nothing opened:
    each `Found` can be read alone by `inputs_of`, e.g. in a worker process."""
    walk = _FileWalk()
    for path in paths:
        yield from walk.requested(path)


class _Reader:
    """Found files -> Inputs: decompression, archives, one-shot streams."""

    def __init__(self, limits: Limits, stdin: BinaryIO | None):
        self.limits = limits
        self.stdin = stdin

    def found(self, found: Found) -> Iterator[Item]:
        if found.path == "-":
            yield from self._stdin()
            return
        name = os.path.basename(os.path.normpath(found.path))
        try:
            info = found.info or os.stat(found.path)
            if not stat.S_ISREG(info.st_mode):
                stream = _open_when_data_comes(found.path, self.limits.pipe_wait)
                if stream is None:
                    yield Skipped(found.path, f"no data came within {self.limits.pipe_wait:g} s "
                                              "(a pipe with no writer?)")
                    return
            else:
                stream = _open_binary(found.path)
        except OSError as error:
            reason = _describe(error)
            yield (
                PathError(found.path, reason)
                if found.requested
                else Skipped(found.path, f"unreadable: {reason}")
            )
            return
        if not stat.S_ISREG(info.st_mode):
            yield from self._expand(Source(found.path, name, None, None), stream)
            return
        source = Source(
            found.path, name, info.st_size, partial(_open_binary, found.path), seekable_file=True
        )
        with stream:
            yield from self._expand(source, stream)

    def _stdin(self) -> Iterator[Item]:
        stream = self.stdin if self.stdin is not None else io.BytesIO()
        yield from self._expand(
            Source("-", "-", None, None, seekable_file=_seekable(stream)), stream
        )

    def _expand(self, source: Source, raw: BinaryIO) -> Iterator[Item]:
        """Look at a source's first bytes: an archive to walk, or one Input."""
        notices: list[str] = []
        try:
            raw_head = read_up_to(raw, PEEK_SIZE)
            codec = detect_codec(source.name, raw_head)
            head, guard = raw_head, None
            if codec is not None:
                guard = decompressing(codec, with_head(raw_head, raw), self.limits, notices)
                head = read_up_to(guard, PEEK_SIZE)
        except InputError as error:
            yield Skipped(source.path, error.reason)
            return
        except OSError as error:
            yield Skipped(source.path, f"unreadable: {_describe(error)}")
            return
        name = strip_compression_suffix(source.name) if codec else source.name
        kind = archive_kind(name, head)
        if kind is not None and source.in_archive:
            yield Skipped(source.path, "nested archive")
        elif kind == "zip":
            yield from iter_zip(source, raw, codec is not None, self.limits, self._expand)
        elif source.reopen is not None and kind is None:
            if guard is not None:
                guard.close()  # the Input opens its own stream; keep no descriptor meanwhile
            notices = []  # the Input's own stream tells its own
            yield Input(
                source.path,
                name,
                None if codec else source.size,
                self._reopener(source.reopen, codec, notices),
                self.limits,
                notices,
            )
        else:
            content = with_head(head, raw if guard is None else guard)
            if kind == "tar":
                if guard is not None:
                    guard.caps_total_size = False  # a tar's members are capped one by one
                yield from iter_tar(source.path, content, codec is not None, self.limits,
                                    self._expand)
            else:
                yield Input(
                    source.path,
                    name,
                    None if codec else source.size,
                    _once(content, source.path),
                    self.limits,
                    notices,
                )

    def _reopener(
        self, reopen: Callable[[], BinaryIO], codec: Codec | None, notices: list[str]
    ) -> Callable[[], BinaryIO]:
        def open_content() -> BinaryIO:
            raw = reopen()
            if codec is None:
                return raw
            notices.clear()
            return io.BufferedReader(
                decompressing(codec, raw, self.limits, notices), STREAM_BUFFER
            )

        return open_content


def _once(stream: BinaryIO, path: str) -> Callable[[], BinaryIO]:
    """An opener for a source that cannot be re-read (stdin, pipes, tar members)."""
    handed_out = []

    def open_once() -> BinaryIO:
        if handed_out:
            raise RuntimeError(f"{path} can be opened only once")
        handed_out.append(True)
        return stream

    return open_once


def _open_binary(path: str) -> BinaryIO:
    return open(path, "rb")


def _describe(error: OSError) -> str:
    return (error.strerror or str(error)).lower()


def _open_when_data_comes(path: str, wait: float) -> BinaryIO | None:
    """A requested pipe or device opened for reading, or None when no data came within
    `wait` seconds: a named pipe nobody writes to would block a plain open forever.
    Anonymous pipes (`<(command)`) have a writer, however slow, and are waited for."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        if not _is_anonymous_pipe(path):
            poller = select.poll()
            poller.register(fd, select.POLLIN | select.POLLPRI)
            if not poller.poll(wait * 1000):
                os.close(fd)
                return None
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _is_anonymous_pipe(path: str) -> bool:
    return os.path.basename(os.path.realpath(path)).startswith("pipe:[")


def _seekable(stream: BinaryIO) -> bool:
    try:
        return stream.seekable()
    except (AttributeError, OSError, ValueError):
        return False
