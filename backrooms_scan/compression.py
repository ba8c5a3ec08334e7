"""Compressed streams: gzip, bz2, xz, lzma and zstd, known by magic bytes or suffix.

Every frame of a multi-frame stream is read; other bytes after the last frame become a
notice, not an error (zero padding ends it silently). Decompression is capped by
`Limits` (see streams.Guarded).
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

import zstandard

from backrooms_scan.limits import KiB, Limits
from backrooms_scan.streams import Counting, Guarded

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

    def __init__(self, source: BinaryIO, codec: Codec, notices: list[str]):
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


@dataclass(frozen=True)
class Codec:
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
    Codec("gzip", (".gz",), lambda h: h[:2] == b"\x1f\x8b", _GzipMember, b"\x1f\x8b"),
    Codec("bz2", (".bz2",), _is_bzip2, bz2.BZ2Decompressor, b"BZh"),
    Codec("xz", (".xz",), lambda h: h[:6] == b"\xfd7zXZ\x00", lzma.LZMADecompressor,
           b"\xfd7zXZ\x00"),
    # The legacy .lzma format has no reliable magic: known by its suffix only.
    Codec("lzma", (".lzma",), lambda h: False, lzma.LZMADecompressor),
    Codec("zstd", (".zst", ".zstd"), lambda h: h[:4] == b"\x28\xb5\x2f\xfd", _ZstdFrame,
           b"\x28\xb5\x2f\xfd", "zstd stream ended in the middle of a frame"),
)


_TAR_SHORT_SUFFIXES = {
    ".tgz": ".tar.gz",
    ".tbz": ".tar.bz2",
    ".tbz2": ".tar.bz2",
    ".txz": ".tar.xz",
    ".tzst": ".tar.zst",
}


def _expand_tar_suffix(name: str) -> str:
    """`a.tgz` -> `a.tar.gz`, so one suffix rule covers both spellings."""
    root, suffix = os.path.splitext(name)
    return root + _TAR_SHORT_SUFFIXES.get(suffix.lower(), suffix)


def detect_codec(name: str, head: bytes) -> Codec | None:
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


def decompressing(
    codec: Codec, raw: BinaryIO, limits: Limits, notices: list[str]
) -> Guarded:
    """Unbuffered, so a peek decompresses only what it asks for."""
    counting = Counting(raw)
    return Guarded(
        _Frames(counting, codec, notices),
        f"broken {codec.name} stream",
        lambda: counting.count,
        limits,
        also_close=counting,
    )
