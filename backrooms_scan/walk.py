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
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import stat
import sys
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
    """How much a compressed stream may expand before reading stops.

    `max_size` caps the decompressed bytes of one stream; `max_ratio` caps
    decompressed/compressed once more than `ratio_after` bytes came out.
    """

    max_size: int
    max_ratio: float = MAX_RATIO
    ratio_after: int = RATIO_GRACE


def default_limits() -> Limits:
    """The limits from the module constants, read now so tests can override them."""
    return Limits(MAX_DECOMPRESSED, MAX_RATIO, RATIO_GRACE)


@dataclass(frozen=True)
class Input:
    """A file, stdin or archive member that can be opened as decompressed bytes.

    `path` is the display path (`dir/a.txt`, `dump.zip!inner/a.txt`, `-`);
    `name` the base name without a compression suffix; `size` the byte count
    when known without reading (plain files and archive members).
    """

    path: str
    name: str
    size: int | None
    opener: Callable[[], BinaryIO] = field(repr=False, compare=False)

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
    """Everything to scan under `paths`, in order; `-` reads `stdin` (default: sys.stdin)."""
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


class _ZstdStream(io.RawIOBase):
    """zstd frames one after another.

    zstandard's own stream_reader returns a truncated frame's data without
    complaint; feeding a decompressobj small slices notices truncation and
    still bounds how much one call can expand.
    """

    _FEED = 2 * KiB

    def __init__(self, source: BinaryIO):
        self._source = source
        self._context = zstandard.ZstdDecompressor()
        self._frame = self._context.decompressobj()
        self._in_frame = False
        self._out = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        while not self._out:
            if not self._decompress_more():
                return 0
        n = min(len(buffer), len(self._out))
        buffer[:n] = self._out[:n]
        self._out = self._out[n:]
        return n

    def _decompress_more(self) -> bool:
        chunk = self._source.read(self._FEED)
        if not chunk:
            if self._in_frame:
                raise EOFError("zstd stream ended in the middle of a frame")
            return False
        out = []
        while chunk:
            self._in_frame = True
            out.append(self._frame.decompress(chunk))
            chunk = b""
            if self._frame.eof:
                chunk = self._frame.unused_data
                self._frame = self._context.decompressobj()
                self._in_frame = False
        self._out = memoryview(b"".join(out))
        return True

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
    reader: Callable[[BinaryIO], BinaryIO]


def _is_bzip2(head: bytes) -> bool:
    # "BZh" + block size digit + the block or end-of-stream magic: "BZh" alone is plain text.
    return (
        head[:3] == b"BZh"
        and head[3:4] in (b"1", b"2", b"3", b"4", b"5", b"6", b"7", b"8", b"9")
        and head[4:10] in (b"1AY&SY", b"\x17rE8P\x90")
    )


_CODECS = (
    _Codec("gzip", (".gz",), lambda h: h[:2] == b"\x1f\x8b", lambda f: gzip.GzipFile(fileobj=f)),
    _Codec("bz2", (".bz2",), _is_bzip2, bz2.BZ2File),
    _Codec("xz", (".xz",), lambda h: h[:6] == b"\xfd7zXZ\x00", lzma.LZMAFile),
    # The legacy .lzma format has no reliable magic: known by its suffix only.
    _Codec("lzma", (".lzma",), lambda h: False, lzma.LZMAFile),
    _Codec("zstd", (".zst", ".zstd"), lambda h: h[:4] == b"\x28\xb5\x2f\xfd", _ZstdStream),
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


def _decompressing(codec: _Codec, raw: BinaryIO, limits: Limits) -> _Guarded:
    """Unbuffered, so a peek decompresses only what it asks for."""
    counting = _Counting(raw)
    return _Guarded(
        codec.reader(counting),
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


class _FileWalk:
    """Requested paths -> files, directories expanded; nothing is opened."""

    def __init__(self) -> None:
        self.walked: dict[tuple[int, int], str] = {}

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
            yield from self._directory(path, info, (), requested=True)
        else:
            # A requested pipe or device is read as a one-shot stream, like stdin.
            yield _Found(path, True, info)

    def _directory(
        self,
        path: str,
        info: os.stat_result,
        ancestors: tuple[tuple[int, int], ...],
        requested: bool = False,
    ) -> Iterator[_Found | Skipped | PathError]:
        key = (info.st_dev, info.st_ino)
        if key in ancestors:
            yield Skipped(path, "symlink loop")
            return
        if key in self.walked:
            yield Skipped(path, f"already walked as {self.walked[key]}")
            return
        self.walked[key] = path
        try:
            with os.scandir(path) as listing:
                entries = sorted(listing, key=lambda entry: entry.name)
        except OSError as error:
            yield (
                PathError(path, _describe(error))
                if requested
                else Skipped(path, f"unreadable: {_describe(error)}")
            )
            return
        for entry in entries:
            yield from self._entry(entry, ancestors + (key,))

    def _entry(
        self, entry: os.DirEntry, ancestors: tuple[tuple[int, int], ...]
    ) -> Iterator[_Found | Skipped | PathError]:
        try:
            info = entry.stat()  # follows symlinks
        except FileNotFoundError:
            yield Skipped(entry.path, "broken symlink")
            return
        except OSError as error:
            yield Skipped(entry.path, f"unreadable: {_describe(error)}")
            return
        if stat.S_ISDIR(info.st_mode):
            if entry.name != ".git":
                yield from self._directory(entry.path, info, ancestors)
        elif not stat.S_ISREG(info.st_mode):
            # Reading a fifo met on the way could block forever.
            yield Skipped(entry.path, "not a regular file")
        elif not os.access(entry.path, os.R_OK):
            yield Skipped(entry.path, "unreadable: permission denied")
        else:
            yield _Found(entry.path, False, info)


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
        try:
            info = found.info or os.stat(found.path)
            stream = _open_binary(found.path)
        except OSError as error:
            reason = _describe(error)
            yield (
                PathError(found.path, reason)
                if found.requested
                else Skipped(found.path, f"unreadable: {reason}")
            )
            return
        name = os.path.basename(os.path.normpath(found.path))
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
        stream = self.stdin if self.stdin is not None else sys.stdin.buffer
        yield from self._expand(
            _Source("-", "-", None, None, seekable_file=_seekable(stream)), stream
        )

    def _expand(self, source: _Source, raw: BinaryIO) -> Iterator[Item]:
        """Look at a source's first bytes: an archive to walk, or one Input."""
        try:
            raw_head = read_up_to(raw, PEEK_SIZE)
            codec = detect_codec(source.name, raw_head)
            head, guard = raw_head, None
            if codec is not None:
                guard = _decompressing(codec, with_head(raw_head, raw), self.limits)
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
            yield Input(
                source.path,
                name,
                None if codec else source.size,
                self._reopener(source.reopen, codec),
            )
        else:
            content = with_head(head, raw if guard is None else guard)
            if kind == "tar":
                if guard is not None:
                    guard.caps_total_size = False  # a tar's members are capped one by one
                yield from self._tar(source.path, content, compressed=codec is not None)
            else:
                yield Input(
                    source.path, name, None if codec else source.size, _once(content, source.path)
                )

    def _reopener(
        self, reopen: Callable[[], BinaryIO], codec: _Codec | None
    ) -> Callable[[], BinaryIO]:
        def open_content() -> BinaryIO:
            raw = reopen()
            if codec is None:
                return raw
            return io.BufferedReader(_decompressing(codec, raw, self.limits), STREAM_BUFFER)

        return open_content

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
            for info in archive.infolist():
                if info.is_dir() or _is_zip_symlink(info):
                    continue
                yield from self._zip_member(source.path, archive, info)

    def _zip_member(
        self, archive_path: str, archive: zipfile.ZipFile, info: zipfile.ZipInfo
    ) -> Iterator[Item]:
        path = f"{archive_path}!{info.filename}"
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

    def _tar(self, path: str, content: BinaryIO, compressed: bool) -> Iterator[Item]:
        try:
            with tarfile.open(fileobj=content, mode="r|") as archive:
                for member in archive:
                    if member.isfile():
                        yield from self._tar_member(path, archive, member, compressed)
        except _BAD_DATA_ERRORS as error:
            yield Skipped(path, f"broken archive: {error}")
        except InputError as error:
            yield Skipped(path, error.reason)

    def _tar_member(
        self, archive_path: str, archive: tarfile.TarFile, member: tarfile.TarInfo, compressed: bool
    ) -> Iterator[Item]:
        path = f"{archive_path}!{member.name}"
        if compressed and member.size > self.limits.max_size:
            yield Skipped(
                path, f"decompressed size exceeds limit ({format_size(self.limits.max_size)})"
            )
            return
        data = archive.extractfile(member)
        assert data is not None  # regular members always have data
        stream = _Guarded(data, "broken archive", lambda: 0, None)
        name = member.name.rstrip("/").rsplit("/", 1)[-1]
        yield from self._expand(_Source(path, name, member.size, None, in_archive=True), stream)


def _buffered(opener: Callable[[], BinaryIO]) -> Callable[[], BinaryIO]:
    return lambda: io.BufferedReader(opener(), STREAM_BUFFER)


def _is_zip_symlink(info: zipfile.ZipInfo) -> bool:
    return stat.S_ISLNK(info.external_attr >> 16)


def _seekable(stream: BinaryIO) -> bool:
    try:
        return stream.seekable()
    except (AttributeError, OSError, ValueError):
        return False
