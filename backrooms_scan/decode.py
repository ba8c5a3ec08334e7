"""Bytes -> text for one input file: encodings, bad bytes, mojibake, terminal codes."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import BinaryIO

from backrooms_scan.model import Notices

HEAD_SIZE = 64 * 1024


@dataclass
class Document:
    """One input file as the loaders see it.

    `path` is the display path (`dir/a.txt`, `dump.zip!inner/a.txt`, `-`);
    `name` is the file's base name without a compression suffix, a hint for
    sniffing and for scenario names; `head` holds the first bytes of the
    (decompressed) content; `stream` yields the whole content from its start.
    """

    path: str
    name: str
    head: bytes
    stream: BinaryIO
    notices: Notices = None  # type: ignore[assignment]
    fix_text: bool = True
    repaired: bool = False
    _text: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.notices is None:
            self.notices = Notices(self.path)

    @classmethod
    def from_bytes(cls, path: str, data: bytes, fix_text: bool = True) -> "Document":
        name = path.replace("\\", "/").rsplit("/", 1)[-1].rsplit("!", 1)[-1]
        return cls(path, name, data[:HEAD_SIZE], io.BytesIO(data), fix_text=fix_text)

    def head_text(self) -> str:
        """The head decoded leniently, for sniffing."""
        return self.head.decode("utf-8", errors="replace")

    def read_text(self) -> str:
        """The whole content as text, decoded once and cached."""
        if self._text is None:
            data = self.stream.read()
            text = data.decode("utf-8", errors="replace")
            self._text = text.replace("\r\n", "\n").replace("\r", "\n")
        return self._text
