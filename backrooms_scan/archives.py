"""Zip and tar archives: known by magic bytes or name, their members read in place.

Nothing is extracted to disk. A zip needs a seekable file; a tar is streamed, even
compressed. Members that are not files (links, devices, directories) and zips whose
entries share data (a zip bomb's trick) are skipped with their reason; a member's
decompressed size is capped by `Limits`.
"""

from __future__ import annotations

import io
import itertools
import stat
import tarfile
import zipfile
from collections.abc import Callable, Iterator
from typing import BinaryIO

from backrooms_scan.inputs import Item, Skipped, Source
from backrooms_scan.limits import Limits, format_size
from backrooms_scan.streams import BAD_DATA_ERRORS, BrokenInput, Guarded, InputError, buffered

# Reads one source (an archive member) into items: the walk's own `_expand`.
Expand = Callable[[Source, BinaryIO], Iterator[Item]]

_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")


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


def iter_zip(source: Source, raw: BinaryIO, compressed: bool, limits: Limits, expand: Expand
             ) -> Iterator[Item]:
    """A zip's members, each read by `expand`, or why the archive or a member is skipped."""
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
                    yield from _zip_member(path, archive, info, limits, expand)
            except Exception as error:  # noqa: BLE001 - one bad member never stops the walk
                listed = True
                yield Skipped(path, f"could not be read: {type(error).__name__}: {error}")
        if not listed:
            yield Skipped(source.path, "empty archive (no file in it)")

def _zip_member(path: str, archive: zipfile.ZipFile, info: zipfile.ZipInfo, limits: Limits,
                expand: Expand) -> Iterator[Item]:
    capped = None if info.compress_type == zipfile.ZIP_STORED else limits

    def open_member() -> BinaryIO:
        try:
            member = archive.open(info)
        except BAD_DATA_ERRORS as error:
            raise BrokenInput(f"broken archive: {error}") from error
        except (RuntimeError, NotImplementedError) as error:
            raise BrokenInput(f"unsupported archive member: {error}") from error
        return Guarded(member, "broken archive", lambda: info.compress_size, capped)

    try:
        stream = open_member()
    except InputError as error:
        yield Skipped(path, error.reason)
        return
    with stream:
        name = info.filename.rstrip("/").rsplit("/", 1)[-1]
        yield from expand(
            Source(path, name, info.file_size, buffered(open_member), in_archive=True), stream
        )

def iter_tar(path: str, content: BinaryIO, compressed: bool, limits: Limits, expand: Expand
             ) -> Iterator[Item]:
    """A streamed tar's members, each read by `expand`, or why one or the rest is skipped."""
    data = _EndOfData(content)
    listed = False
    try:
        with tarfile.open(fileobj=data, mode="r|", tarinfo=_TarHeader) as archive:
            while (member := archive.next()) is not None:
                archive.members.clear()  # a stream needs no list of past members
                listed = listed or not member.isdir()
                yield from _tar_entry(path, archive, member, compressed, limits, expand)
            stopped = archive.stopped_at
    except BAD_DATA_ERRORS as error:
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

def _tar_entry(archive_path: str, archive: tarfile.TarFile, member: tarfile.TarInfo,
               compressed: bool, limits: Limits, expand: Expand) -> Iterator[Item]:
    path = f"{archive_path}!{_shown_member_name(member.name)}"
    kind = _tar_entry_kind(member)
    if kind == "directory member":
        return
    if kind is not None:
        yield Skipped(path, kind)
    elif compressed and member.size > limits.max_size:
        yield Skipped(
            path, f"decompressed size exceeds limit ({format_size(limits.max_size)})"
        )
    else:
        data = archive.extractfile(member)
        assert data is not None  # regular members always have data
        stream = Guarded(data, "broken archive", lambda: 0, None)
        name = member.name.rstrip("/").rsplit("/", 1)[-1]
        yield from expand(Source(path, name, member.size, None, in_archive=True), stream)


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
