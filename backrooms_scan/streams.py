"""Byte streams as the walk reads them: peeking, a head put back, reads capped by `Limits`.

The errors reading an input may raise live here: `BrokenInput` (corrupt or truncated
data) and `InputTooLarge` (beyond the limits), both `InputError`s with a `reason`.
"""

from __future__ import annotations

import io
import lzma
import tarfile
import zipfile
import zlib
from collections.abc import Callable
from typing import BinaryIO

import zstandard

from backrooms_scan.limits import KiB, Limits, format_size

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


class Counting(io.RawIOBase):
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
BAD_DATA_ERRORS = (
    OSError,
    EOFError,
    zlib.error,
    lzma.LZMAError,
    zstandard.ZstdError,
    zipfile.BadZipFile,
    tarfile.TarError,
)


class Guarded(io.RawIOBase):
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
        except BAD_DATA_ERRORS as error:
            raise BrokenInput(f"{self._label}: {error}") from error
        self.produced += n
        if self._limits is not None:
            check_limits(self.produced, self._consumed(), self._limits, self.caps_total_size)
        return n

    def close(self) -> None:
        if not self.closed:
            self._inner.close()
            if self._also_close is not None:
                self._also_close.close()
        super().close()


def check_limits(produced: int, consumed: int, limits: Limits, caps_size: bool) -> None:
    if caps_size and produced > limits.max_size:
        raise InputTooLarge(f"decompressed size exceeds limit ({format_size(limits.max_size)})")
    if produced > limits.ratio_after and produced > limits.max_ratio * max(consumed, 1):
        raise InputTooLarge(
            f"decompressed size exceeds limit (more than {limits.max_ratio:g} times "
            f"the compressed size past {format_size(limits.ratio_after)})"
        )


def buffered(opener: Callable[[], BinaryIO]) -> Callable[[], BinaryIO]:
    return lambda: io.BufferedReader(opener(), STREAM_BUFFER)
