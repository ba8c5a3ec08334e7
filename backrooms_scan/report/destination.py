"""Where a report goes: stdout, or `-o FILE` written so that it breaks nothing.

A regular file (or a new path) is written to a temp file beside it and renamed into
place, so readers never see half a report; the old file's mode is kept, a new one
gets the umask's. A symlink is followed and its target written. FIFOs and devices
are written straight into, never replaced. Every failure is one `Failure` line.
"""

from __future__ import annotations

import io
import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from backrooms_scan.status import Failure

# File names that are not UTF-8 reach reports as lone surrogates: write them as `\udcXX`,
# as stderr does, rather than fail. In JSON that is a valid escape of the same string.
UNENCODABLE = "backslashreplace"
TEMP_PREFIX = ".backrooms-scan-"


class GuardedStream(io.TextIOBase):
    """A text stream whose write errors become one `Failure` line naming the target.

    A broken pipe stays a BrokenPipeError: the reader went away, which is no error.
    """

    def __init__(self, stream: TextIO, name: str):
        self.stream = stream
        self.name = name

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        with self._failures():
            return self.stream.write(text)

    def flush(self) -> None:
        with self._failures():
            self.stream.flush()

    @contextmanager
    def _failures(self) -> Iterator[None]:
        try:
            yield
        except BrokenPipeError:
            raise
        except (OSError, ValueError) as error:
            raise Failure(f"cannot write {self.name}: {describe(error)}") from None


def describe(error: Exception) -> str:
    if isinstance(error, OSError) and error.strerror:
        return error.strerror.lower() if error.strerror[:1].isupper() else error.strerror
    return str(error) or type(error).__name__


def tolerant(stream: TextIO) -> TextIO:
    """The stream, set to escape what its encoding cannot write instead of failing."""
    if getattr(stream, "errors", None) == "strict" and hasattr(stream, "reconfigure"):
        stream.reconfigure(errors=UNENCODABLE)
    return stream


@contextmanager
def report_destination(path: str | None, stdout: TextIO) -> Iterator[TextIO]:
    """The stream the report is written to; on leaving without error it is complete."""
    if path is None or path == "-":
        out = GuardedStream(tolerant(stdout), "stdout")
        yield out
        out.flush()
        return
    if path == "":
        raise Failure("-o '': an empty path names no file")
    target = os.path.realpath(path)
    try:
        status = os.stat(target)
    except FileNotFoundError:
        status = None
    except OSError as error:
        raise Failure(f"cannot write {path}: {describe(error)}") from None
    if status is not None and stat.S_ISDIR(status.st_mode):
        raise Failure(f"cannot write {path}: is a directory")
    if status is not None and not stat.S_ISREG(status.st_mode):
        with _special_file(target, path) as out:
            yield out
        return
    if status is not None and not os.access(target, os.W_OK):
        raise Failure(f"cannot write {path}: permission denied")
    with _replaced_file(target, path, status) as out:
        yield out


@contextmanager
def _special_file(target: str, shown: str) -> Iterator[TextIO]:
    """A FIFO or device: opened and written in place."""
    try:
        raw = open(target, "w", encoding="utf-8", errors=UNENCODABLE, newline="")  # noqa: SIM115
    except OSError as error:
        raise Failure(f"cannot write {shown}: {describe(error)}") from None
    out = GuardedStream(raw, shown)
    try:
        yield out
        out.flush()
    finally:
        try:
            raw.close()
        except OSError:
            pass  # the flush above already reported it


@contextmanager
def _replaced_file(target: str, shown: str, old: os.stat_result | None) -> Iterator[TextIO]:
    """A regular file or a new path: a temp file beside it, renamed into place at the end."""
    try:
        handle, temp_path = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=os.path.dirname(target))
    except OSError as error:
        raise Failure(f"cannot write {shown}: {describe(error)}") from None
    try:
        _set_mode(handle, old)
        with os.fdopen(handle, "w", encoding="utf-8", errors=UNENCODABLE, newline="") as raw:
            out = GuardedStream(raw, shown)
            yield out
            out.flush()
            with out._failures():
                os.fsync(raw.fileno())
        with GuardedStream(raw, shown)._failures():
            os.replace(temp_path, target)
    finally:
        if os.path.lexists(temp_path):
            os.unlink(temp_path)


def _set_mode(handle: int, old: os.stat_result | None) -> None:
    """The old file's mode and owner, or what the umask gives a new file (mkstemp's is 0600)."""
    if old is None:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(handle, 0o666 & ~umask)
        return
    os.fchmod(handle, stat.S_IMODE(old.st_mode))
    try:
        os.fchown(handle, old.st_uid, old.st_gid)
    except OSError:
        pass  # not ours to give away; the mode is what matters
