"""Paths, directories, archives, compression and stdin -> byte streams.

`iter_inputs` turns what the user named into a deterministic sequence of
`Input` (something to scan), `Skipped` (seen, not scanned, with a reason) and
`PathError` (a requested path that cannot be read at all).

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
"""

from __future__ import annotations

import bz2
import gzip
import io
import itertools
import lzma
import os
import select
import stat
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import BinaryIO

import zstandard

KiB, MiB, GiB = 1024, 1024**2, 1024**3

MAX_DECOMPRESSED = 4 * GiB
MAX_RATIO = 1000
RATIO_GRACE = 64 * MiB
# A file a loader reads whole (one conversation of a text layout) may not be larger
# than this once decompressed: reading one takes up to about 25 times its size (a
# Turn per line of a fork log), so 16 MiB keeps a scan near 400 MB.
MAX_WHOLE_FILE = 16 * MiB
# How long a pipe or device named on the command line may stay silent before it is skipped.
PIPE_WAIT_SECONDS = 10.0

# Enough decompressed bytes to see the tar magic at offset 257.
PEEK_SIZE = 512
STREAM_BUFFER = 256 * KiB


class InputError(Exception):
    """A stream that cannot be read to its end; `reason` is meant for the skip report."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class BrokenInput(InputError):
    """Corrupt or truncated compressed data or archive member."""


class InputTooLarge(InputError):
    """Decompressed data beyond the limits: likely a decompression bomb."""


@dataclass(frozen=True)
class Limits:
    """How much reading one input may take.

    `max_size` caps the decompressed bytes of one stream; `max_ratio` caps
    decompressed/compressed once more than `ratio_after` bytes came out;
    `max_whole_file` caps a file that is read whole into memory (see
    `read_whole`); `pipe_wait` is how many seconds a requested named pipe or
    device may stay silent before it is skipped.
    """

    max_size: int = MAX_DECOMPRESSED
    max_ratio: float = MAX_RATIO
    ratio_after: int = RATIO_GRACE
    max_whole_file: int = MAX_WHOLE_FILE
    pipe_wait: float = PIPE_WAIT_SECONDS


def default_limits() -> Limits:
    """The limits from the module constants, read now so tests can override them."""
    return Limits(MAX_DECOMPRESSED, MAX_RATIO, RATIO_GRACE, MAX_WHOLE_FILE, PIPE_WAIT_SECONDS)


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


def iter_inputs(
    paths: Sequence[str],
    stdin: BinaryIO | None = None,
    *,
    limits: Limits | None = None,
) -> Iterator[Item]:
    """Everything to scan under `paths`, in order; `-` reads `stdin` (none given: empty)."""
    reader = _Reader(limits or default_limits(), stdin)
    walk = _FileWalk()
    for path in paths:
        for found in walk.requested(path):
            yield from reader.found(found) if isinstance(found, _Found) else (found,)


# --- small stream helpers -------------------------------------------------


def read_up_to(stream: BinaryIO, size: int) -> bytes:
    """Exactly `size` bytes, or fewer only at the end of the stream."""
    chunks = []
    remaining = size
    while remaining > 0:
        chunk = stream.read(remaining)
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def read_whole(stream: BinaryIO, limit: int, held: int = 0) -> bytes:
    """The rest of `stream`, or InputTooLarge once it and the `held` bytes already read
    pass `limit` bytes (never holding more)."""
    data = read_up_to(stream, limit - held + 1)
    if held + len(data) > limit:
        raise InputTooLarge(f"too large to read whole (more than {format_size(limit)})")
    return data


def with_head(head: bytes, rest: BinaryIO) -> BinaryIO:
    """A buffered stream that yields `head` and then `rest`: un-reads a peek."""
    return io.BufferedReader(_Prefixed(head, rest), STREAM_BUFFER)


class _Prefixed(io.RawIOBase):
    def __init__(self, head: bytes, rest: BinaryIO):
        self._head = memoryview(head)
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        if self._head:
            n = min(len(buffer), len(self._head))
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._rest.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._rest.close()
        super().close()


class _Counting(io.RawIOBase):
    """Counts the compressed bytes a decompressor has taken, for the ratio check."""

    def __init__(self, raw: BinaryIO):
        self._raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:  # type: ignore[override]
        data = self._raw.read(size)
        self.count += len(data)
        return data

    def readinto(self, buffer) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._raw.close()
        super().close()


# Everything a decompressor or archive reader raises on bad data.
_BAD_DATA_ERRORS = (
    OSError,
    EOFError,
    zlib.error,
    lzma.LZMAError,
    zstandard.ZstdError,
    zipfile.BadZipFile,
    tarfile.TarError,
)


class _Guarded(io.RawIOBase):
    """Reads `inner`, turning its data errors into BrokenInput and enforcing Limits."""

    def __init__(
        self,
        inner: BinaryIO,
        label: str,
        consumed: Callable[[], int],
        limits: Limits | None,
        also_close: BinaryIO | None = None,
    ):
        self._inner = inner
        self._label = label
        self._consumed = consumed
        self._limits = limits
        self._also_close = also_close
        self.produced = 0
        self.caps_total_size = True

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        try:
            n = self._inner.readinto(buffer)
        except _BAD_DATA_ERRORS as error:
            raise BrokenInput(f"{self._label}: {error}") from error
        self.produced += n
        if self._limits is not None:
            _check_limits(self.produced, self._consumed(), self._limits, self.caps_total_size)
        return n

    def close(self) -> None:
        if not self.closed:
            self._inner.close()
            if self._also_close is not None:
                self._also_close.close()
        super().close()


def _check_limits(produced: int, consumed: int, limits: Limits, caps_size: bool) -> None:
    if caps_size and produced > limits.max_size:
        raise InputTooLarge(f"decompressed size exceeds limit ({format_size(limits.max_size)})")
    if produced > limits.ratio_after and produced > limits.max_ratio * max(consumed, 1):
        raise InputTooLarge(
            f"decompressed size exceeds limit (more than {limits.max_ratio:g} times "
            f"the compressed size past {format_size(limits.ratio_after)})"
        )


def format_size(size: int) -> str:
    """`4 GiB`, `64 MiB`, `1000 bytes`: exact, for messages."""
    for unit, scale in (("GiB", GiB), ("MiB", MiB), ("KiB", KiB)):
        if size >= scale and size % scale == 0:
            return f"{size // scale} {unit}"
    return f"{size} bytes"


_ENDED_EARLY = "Compressed file ended before the end-of-stream marker was reached"


class _GzipMember:
    """zlib's gzip decompressor behind the interface of bz2's and lzma's: the input one call
    could not take is kept for the next, and `needs_input` says when it wants more."""

    def __init__(self) -> None:
        self._zlib = zlib.decompressobj(wbits=31)
        self._checked_header = False
        self._full = False

    def decompress(self, data: bytes, max_length: int) -> bytes:
        data = self._zlib.unconsumed_tail + data
        if not self._checked_header:
            if len(data) < 3 and data == b"\x1f\x8b"[: len(data)]:
                self._zlib = zlib.decompressobj(wbits=31)
                raise _NeedMore(data)
            _check_gzip_header(data)
            self._checked_header = True
        out = self._zlib.decompress(data, max_length)
        self._full = len(out) == max_length
        return out

    @property
    def needs_input(self) -> bool:
        return not self._zlib.unconsumed_tail and not self._full

    @property
    def eof(self) -> bool:
        return self._zlib.eof

    @property
    def unused_data(self) -> bytes:
        return self._zlib.unused_data


class _NeedMore(Exception):
    """Too few bytes to start a frame: `data` is to be fed again with more."""

    def __init__(self, data: bytes):
        super().__init__()
        self.data = data


def _check_gzip_header(data: bytes) -> None:
    """The gzip module's own complaints, which are clearer than zlib's "incorrect header"."""
    if data[:2] != b"\x1f\x8b":
        raise gzip.BadGzipFile(f"Not a gzipped file ({data[:2]!r})")
    if data[2:3] != b"\x08":
        raise gzip.BadGzipFile("Unknown compression method")


class _ZstdFrame:
    """A zstd frame decompressor fed small slices: it cannot cap its output per call, and
    zstandard's own stream_reader returns a truncated frame's data without complaint."""

    _FEED = 2 * KiB

    def __init__(self) -> None:
        self._zstd = zstandard.ZstdDecompressor().decompressobj()
        self._tail = b""

    def decompress(self, data: bytes, max_length: int) -> bytes:
        data = self._tail + data
        self._tail = data[self._FEED :]
        return self._zstd.decompress(data[: self._FEED])

    @property
    def needs_input(self) -> bool:
        return not self._tail

    @property
    def eof(self) -> bool:
        return self._zstd.eof

    @property
    def unused_data(self) -> bytes:
        return self._zstd.unused_data + self._tail if self._zstd.eof else b""


class _Frames(io.RawIOBase):
    """The frames of a compressed stream one after another (gzip members, zstd frames, xz
    and bz2 streams), decompressed in steps of bounded size.

    Bytes after the last frame that do not start another are not an error: reading
    ends there, with a notice (zero padding, as tape blocks leave, ends it silently).
    """

    _READ = 64 * KiB
    _STEP = 256 * KiB

    def __init__(self, source: BinaryIO, codec: _Codec, notices: list[str]):
        self._source = source
        self._codec = codec
        self._notices = notices
        self._frame = codec.new_frame()
        self._pending = b""  # compressed bytes read and not yet fed
        self._out = memoryview(b"")  # decompressed bytes not yet handed out
        self._read_total = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        while not self._out:
            out = self._step(min(len(buffer), self._STEP))
            if out is None:
                return 0
            self._out = memoryview(out)
        n = min(len(buffer), len(self._out))
        buffer[:n] = self._out[:n]
        self._out = self._out[n:]
        return n

    def _read_more(self) -> bytes:
        data = self._source.read(self._READ)
        self._read_total += len(data)
        return data

    def _step(self, size: int) -> bytes | None:
        """Some decompressed bytes (perhaps none yet), or None at the end of the stream."""
        if self._frame is None or self._frame.eof:
            return self._next_frame()
        data = b""
        if self._frame.needs_input:
            data, self._pending = self._pending or self._read_more(), b""
            if not data and self._read_total == 0:
                return None  # an empty file is an empty stream, as the codec modules have it
            if not data:
                raise EOFError(self._codec.ended_early)
        try:
            out = self._frame.decompress(data, size)
        except _NeedMore as short:
            more = self._read_more()
            if not more:
                raise EOFError(self._codec.ended_early) from None
            self._pending = short.data + more
            return b""
        return out

    def _next_frame(self) -> bytes | None:
        if self._frame is not None:
            self._pending = self._frame.unused_data + self._pending
            self._frame = None
        magic = self._codec.magic
        while len(self._pending) < max(len(magic), 1) and (more := self._read_more()):
            self._pending += more
        if not self._pending:
            return None
        if magic and self._pending.startswith(magic):
            self._frame = self._codec.new_frame()
            return b""
        self._end_at_trailing_bytes()
        return None

    def _end_at_trailing_bytes(self) -> None:
        at = self._read_total - len(self._pending)
        data = self._pending
        while data and not data.strip(b"\x00"):
            data = self._read_more()
        self._pending = b""
        if data:
            self._notices.append(
                f"bytes after the end of the {self._codec.name} stream (from byte {at}) ignored"
            )

    def close(self) -> None:
        if not self.closed:
            self._source.close()
        super().close()


# --- compression and archive detection -------------------------------------


@dataclass(frozen=True)
class _Codec:
    name: str
    suffixes: tuple[str, ...]
    has_magic: Callable[[bytes], bool]
    new_frame: Callable[[], object]
    magic: bytes = b""  # how a further frame starts; empty: the format has only one
    ended_early: str = _ENDED_EARLY


def _is_bzip2(head: bytes) -> bool:
    # "BZh" + block size digit + the block or end-of-stream magic: "BZh" alone is plain text.
    return (
        head[:3] == b"BZh"
        and head[3:4] in (b"1", b"2", b"3", b"4", b"5", b"6", b"7", b"8", b"9")
        and head[4:10] in (b"1AY&SY", b"\x17rE8P\x90")
    )


_CODECS = (
    _Codec("gzip", (".gz",), lambda h: h[:2] == b"\x1f\x8b", _GzipMember, b"\x1f\x8b"),
    _Codec("bz2", (".bz2",), _is_bzip2, bz2.BZ2Decompressor, b"BZh"),
    _Codec("xz", (".xz",), lambda h: h[:6] == b"\xfd7zXZ\x00", lzma.LZMADecompressor,
           b"\xfd7zXZ\x00"),
    # The legacy .lzma format has no reliable magic: known by its suffix only.
    _Codec("lzma", (".lzma",), lambda h: False, lzma.LZMADecompressor),
    _Codec("zstd", (".zst", ".zstd"), lambda h: h[:4] == b"\x28\xb5\x2f\xfd", _ZstdFrame,
           b"\x28\xb5\x2f\xfd", "zstd stream ended in the middle of a frame"),
)

_TAR_SHORT_SUFFIXES = {
    ".tgz": ".tar.gz",
    ".tbz": ".tar.bz2",
    ".tbz2": ".tar.bz2",
    ".txz": ".tar.xz",
    ".tzst": ".tar.zst",
}
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")


def _expand_tar_suffix(name: str) -> str:
    """`a.tgz` -> `a.tar.gz`, so one suffix rule covers both spellings."""
    root, suffix = os.path.splitext(name)
    return root + _TAR_SHORT_SUFFIXES.get(suffix.lower(), suffix)


def detect_codec(name: str, head: bytes) -> _Codec | None:
    """The compression of a stream: magic bytes first, then the name's suffix.

    A suffix without matching magic still selects its codec, so a damaged
    `a.gz` is reported as a broken gzip stream rather than scanned as bytes.
    """
    for codec in _CODECS:
        if codec.has_magic(head):
            return codec
    lowered = _expand_tar_suffix(name).lower()
    for codec in _CODECS:
        if lowered.endswith(codec.suffixes):
            return codec
    return None


def strip_compression_suffix(name: str) -> str:
    """`a.txt.gz` -> `a.txt`, `a.tgz` -> `a.tar`; other names unchanged."""
    expanded = _expand_tar_suffix(name)
    for codec in _CODECS:
        for suffix in codec.suffixes:
            if expanded.lower().endswith(suffix):
                return expanded[: -len(suffix)]
    return name


def archive_kind(name: str, head: bytes) -> str | None:
    """The archive kind, "zip" or "tar", from the (decompressed) head's magic or the name."""
    if head[:4] in _ZIP_MAGICS:
        return "zip"
    if head[257:262] == b"ustar":
        return "tar"
    lowered = name.lower()
    if lowered.endswith(".zip"):
        return "zip"
    if lowered.endswith(".tar"):
        return "tar"
    return None


def _decompressing(
    codec: _Codec, raw: BinaryIO, limits: Limits, notices: list[str]
) -> _Guarded:
    """Unbuffered, so a peek decompresses only what it asks for."""
    counting = _Counting(raw)
    return _Guarded(
        _Frames(counting, codec, notices),
        f"broken {codec.name} stream",
        lambda: counting.count,
        limits,
        also_close=counting,
    )


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


# --- the walk ---------------------------------------------------------------


@dataclass
class _Source:
    """A byte stream about to be looked at: a file, stdin, a pipe or an archive member."""

    path: str
    name: str
    size: int | None
    reopen: Callable[[], BinaryIO] | None  # None: the stream can be read only once
    in_archive: bool = False
    seekable_file: bool = False


@dataclass(frozen=True)
class _Found:
    """A path the file walk found, and whether the user named it."""

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

    def requested(self, path: str) -> Iterator[_Found | Skipped | PathError]:
        if path == "-":
            yield _Found(path, requested=True)
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

    def _file(self, path: str, info: os.stat_result, requested: bool) -> _Found | Skipped:
        key = (info.st_dev, info.st_ino)
        if info.st_ino and key in self.files:
            return Skipped(path, f"already read as {self.files[key]}")
        self.files[key] = path
        return _Found(path, requested, info)

    def _tree(self, root: str, info: os.stat_result) -> Iterator[_Found | Skipped | PathError]:
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

    def _entry(self, entry: os.DirEntry) -> os.stat_result | _Found | Skipped | None:
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


def iter_files(paths: Sequence[str]) -> Iterator[str | Skipped | PathError]:
    """The files (and `-`) under `paths` in walk order, archives left whole, nothing opened.

    Each path it yields can be given alone to `iter_inputs`, e.g. by a worker process.
    """
    walk = _FileWalk()
    for path in paths:
        for found in walk.requested(path):
            yield found.path if isinstance(found, _Found) else found


class _Reader:
    """Found files -> Inputs: decompression, archives, one-shot streams."""

    def __init__(self, limits: Limits, stdin: BinaryIO | None):
        self.limits = limits
        self.stdin = stdin
        self.stdin_read = False

    def found(self, found: _Found) -> Iterator[Item]:
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
            yield from self._expand(_Source(found.path, name, None, None), stream)
            return
        source = _Source(
            found.path, name, info.st_size, partial(_open_binary, found.path), seekable_file=True
        )
        with stream:
            yield from self._expand(source, stream)

    def _stdin(self) -> Iterator[Item]:
        if self.stdin_read:
            yield Skipped("-", "stdin already read")
            return
        self.stdin_read = True
        stream = self.stdin if self.stdin is not None else io.BytesIO()
        yield from self._expand(
            _Source("-", "-", None, None, seekable_file=_seekable(stream)), stream
        )

    def _expand(self, source: _Source, raw: BinaryIO) -> Iterator[Item]:
        """Look at a source's first bytes: an archive to walk, or one Input."""
        notices: list[str] = []
        try:
            raw_head = read_up_to(raw, PEEK_SIZE)
            codec = detect_codec(source.name, raw_head)
            head, guard = raw_head, None
            if codec is not None:
                guard = _decompressing(codec, with_head(raw_head, raw), self.limits, notices)
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
            yield from self._zip(source, raw, compressed=codec is not None)
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
                yield from self._tar(source.path, content, compressed=codec is not None)
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
        self, reopen: Callable[[], BinaryIO], codec: _Codec | None, notices: list[str]
    ) -> Callable[[], BinaryIO]:
        def open_content() -> BinaryIO:
            raw = reopen()
            if codec is None:
                return raw
            notices.clear()
            return io.BufferedReader(
                _decompressing(codec, raw, self.limits, notices), STREAM_BUFFER
            )

        return open_content

    # --- zip

    def _zip(self, source: _Source, raw: BinaryIO, compressed: bool) -> Iterator[Item]:
        if compressed or not source.seekable_file:
            yield Skipped(
                source.path, "zip archive needs a seekable file (not a pipe or a compressed stream)"
            )
            return
        try:
            raw.seek(0)
            archive = zipfile.ZipFile(raw)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as error:
            yield Skipped(source.path, f"broken archive: {error}")
            return
        with archive:
            members = archive.infolist()
            overlap = _overlapping_entries(members, archive.start_dir)
            if overlap:
                yield Skipped(source.path, f"broken archive: {overlap}")
                return
            listed = False
            for info in members:
                path = f"{source.path}!{_shown_member_name(info.orig_filename)}"
                try:
                    kind = _zip_entry_kind(info)
                    if kind == "directory member":
                        continue
                    listed = True
                    if kind is not None:
                        yield Skipped(path, kind)
                    else:
                        yield from self._zip_member(path, archive, info)
                except Exception as error:  # noqa: BLE001 - one bad member never stops the walk
                    listed = True
                    yield Skipped(path, f"could not be read: {type(error).__name__}: {error}")
            if not listed:
                yield Skipped(source.path, "empty archive (no file in it)")

    def _zip_member(
        self, path: str, archive: zipfile.ZipFile, info: zipfile.ZipInfo
    ) -> Iterator[Item]:
        limits = None if info.compress_type == zipfile.ZIP_STORED else self.limits

        def open_member() -> BinaryIO:
            try:
                member = archive.open(info)
            except _BAD_DATA_ERRORS as error:
                raise BrokenInput(f"broken archive: {error}") from error
            except (RuntimeError, NotImplementedError) as error:
                raise BrokenInput(f"unsupported archive member: {error}") from error
            return _Guarded(member, "broken archive", lambda: info.compress_size, limits)

        try:
            stream = open_member()
        except InputError as error:
            yield Skipped(path, error.reason)
            return
        with stream:
            name = info.filename.rstrip("/").rsplit("/", 1)[-1]
            yield from self._expand(
                _Source(path, name, info.file_size, _buffered(open_member), in_archive=True), stream
            )

    # --- tar

    def _tar(self, path: str, content: BinaryIO, compressed: bool) -> Iterator[Item]:
        data = _EndOfData(content)
        listed = False
        try:
            with tarfile.open(fileobj=data, mode="r|", tarinfo=_TarHeader) as archive:
                while (member := archive.next()) is not None:
                    archive.members.clear()  # a stream needs no list of past members
                    listed = listed or not member.isdir()
                    yield from self._tar_entry(path, archive, member, compressed)
                stopped = archive.stopped_at
        except _BAD_DATA_ERRORS as error:
            yield Skipped(path, f"broken archive: {error}")
            return
        except InputError as error:
            yield Skipped(path, error.reason)
            return
        except Exception as error:  # noqa: BLE001 - a bad archive never stops the walk
            yield Skipped(path, f"broken archive: {type(error).__name__}: {error}")
            return
        if stopped is not None:
            yield Skipped(path, f"broken archive: {stopped[1]} at byte {stopped[0]}; "
                                "the members from there on are not read")
        elif not listed:
            yield Skipped(path, "empty archive (no file in it)")

    def _tar_entry(
        self, archive_path: str, archive: tarfile.TarFile, member: tarfile.TarInfo, compressed: bool
    ) -> Iterator[Item]:
        path = f"{archive_path}!{_shown_member_name(member.name)}"
        kind = _tar_entry_kind(member)
        if kind == "directory member":
            return
        if kind is not None:
            yield Skipped(path, kind)
        elif compressed and member.size > self.limits.max_size:
            yield Skipped(
                path, f"decompressed size exceeds limit ({format_size(self.limits.max_size)})"
            )
        else:
            data = archive.extractfile(member)
            assert data is not None  # regular members always have data
            stream = _Guarded(data, "broken archive", lambda: 0, None)
            name = member.name.rstrip("/").rsplit("/", 1)[-1]
            yield from self._expand(_Source(path, name, member.size, None, in_archive=True), stream)


def _shown_member_name(name: str) -> str:
    """A member name as shown in paths: control characters such as NUL escaped."""
    return "".join(char if char.isprintable() else f"\\x{ord(char):02x}" for char in name)


def _zip_entry_kind(info: zipfile.ZipInfo) -> str | None:
    """Why a zip entry is not read as a file ("directory member", ...), or None."""
    if "\x00" in info.orig_filename:
        return "member name holds a NUL byte"
    if info.filename.endswith("/"):
        return "directory member"
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        return "symlink member"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device member"
    if stat.S_ISFIFO(mode):
        return "fifo member"
    return None


def _tar_entry_kind(member: tarfile.TarInfo) -> str | None:
    """Why a tar entry is not read as a file ("symlink member", ...), or None."""
    if member.isfile():
        return None
    if member.isdir():
        return "directory member"
    if member.issym():
        return "symlink member"
    if member.islnk():
        return "hardlink member"
    if member.ischr() or member.isblk():
        return "device member"
    if member.isfifo():
        return "fifo member"
    return "not a file member"


def _overlapping_entries(members: list[zipfile.ZipInfo], end: int) -> str | None:
    """Why the entries' data overlap, or None: entries sharing data are how small zips
    inflate to gigabytes, and no zip tool writes them."""
    spans = sorted((info.header_offset, info.compress_size) for info in members)
    overlapping = sum(
        start + size > next_start or start == next_start
        for (start, size), (next_start, _) in itertools.pairwise(spans)
    )
    if spans and spans[-1][0] + spans[-1][1] > end:
        overlapping += 1
    if not overlapping:
        return None
    return (f"{overlapping} of {len(members)} entries overlap the data of others"
            " (refused as a likely zip bomb)")


class _TarHeader(tarfile.TarInfo):
    """Notes on the archive where its headers stopped being readable: past the first,
    tarfile ends the member list at a bad header as if the archive ended there."""

    @classmethod
    def fromtarfile(cls, archive: tarfile.TarFile) -> tarfile.TarInfo:
        archive.stopped_at = None
        try:
            return super().fromtarfile(archive)
        except (tarfile.InvalidHeaderError, tarfile.TruncatedHeaderError) as error:
            archive.stopped_at = (archive.offset, str(error))
            raise


class _EndOfData(io.RawIOBase):
    """Fails a reader that keeps reading at the end: tarfile passes over a member by
    reading as many bytes as its header declares, which may be 10**12."""

    _READS_AT_END = 8

    def __init__(self, inner: BinaryIO):
        self._inner = inner
        self._at_end = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        n = self._inner.readinto(buffer)
        if n == 0:
            self._at_end += 1
            if self._at_end > self._READS_AT_END:
                raise BrokenInput("broken archive: unexpected end of data")
        return n


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


def _buffered(opener: Callable[[], BinaryIO]) -> Callable[[], BinaryIO]:
    return lambda: io.BufferedReader(opener(), STREAM_BUFFER)


def _seekable(stream: BinaryIO) -> bool:
    try:
        return stream.seekable()
    except (AttributeError, OSError, ValueError):
        return False
