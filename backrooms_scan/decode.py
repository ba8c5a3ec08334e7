"""Bytes -> text for one input file: encodings, bad bytes, mojibake, terminal codes.

Every step keeps line numbers: line breaks are only normalised (CRLF and lone
CR become LF), never added or removed, so a loader's line N is line N of the
file as an editor shows it.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, BinaryIO

import ftfy

from backrooms_scan.records import Notices
from backrooms_scan.walk import read_up_to, read_whole, with_head

if TYPE_CHECKING:
    from backrooms_scan.walk import Input

HEAD_SIZE = 64 * 1024


@dataclass
class Document:
    """One input file as the loaders see it.

    `path` is the display path (`dir/a.txt`, `dump.zip!inner/a.txt`, `-`);
    `name` is the file's base name without a compression suffix, a hint for
    sniffing and for scenario names; `head` holds the first bytes of the
    (decompressed) content; `stream` yields the whole content from its start.
    `encoding` is set by `read_text()` (`utf-8`, `utf-16-le`, ...); `max_whole`
    caps the bytes `read_text()` may hold (walk.Limits.max_whole_file), `max_record`
    those of one record a loader reads whole (a JSONL line; Limits.max_record).
    """

    path: str
    name: str
    head: bytes
    stream: BinaryIO
    notices: Notices = None  # type: ignore[assignment]
    fix_text: bool = True
    repaired: bool = False
    encoding: str | None = None
    max_whole: int | None = None
    max_record: int | None = None
    _text: str | None = field(default=None, repr=False)
    _head_text: str | None = field(default=None, repr=False)
    _rest: BinaryIO | None = field(default=None, repr=False)  # `stream` past the head
    _decoding: tuple[bytes, str, tuple[str, int] | None] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.notices is None:
            self.notices = Notices(self.path)

    @classmethod
    def from_bytes(cls, path: str, data: bytes, fix_text: bool = True) -> Document:
        name = path.replace("\\", "/").rsplit("/", 1)[-1].rsplit("!", 1)[-1]
        return cls(path, name, data[:HEAD_SIZE], io.BytesIO(data), fix_text=fix_text)

    @classmethod
    def from_input(cls, inp: Input, fix_text: bool = True) -> Document:
        """Open an Input and read its head; the stream still starts at byte 0.

        Reading may raise walk.InputError (broken compressed data, too large).
        """
        stream = inp.open()
        head = read_up_to(stream, HEAD_SIZE)
        return cls(inp.path, inp.name, head, with_head(head, stream), fix_text=fix_text,
                   max_whole=inp.limits.max_whole_file, max_record=inp.limits.max_record,
                   _rest=stream)

    def head_text(self) -> str:
        """The head decoded leniently, for sniffing: same encoding rules, LF line ends,
        no terminal escapes, no notices and no mojibake repair."""
        if self._head_text is None:
            if len(self.head) < HEAD_SIZE and self._decoded()[2] is None:
                # The head is all there is and decodes cleanly: decode it once for both.
                self._head_text = self._decoded()[1]
            else:
                encoding, bom = sniff_encoding(self.head)
                text = self.head[bom:].decode(encoding, errors="replace")
                self._head_text = _normalized(text, self.head, encoding)
        return self._head_text

    def read_text(self) -> str:
        """The whole content as text, decoded once and cached.

        Bad bytes become U+FFFD and NUL bytes U+FFFD, each with one notice;
        CRLF/CR become LF; ANSI escapes are removed; double-encoded UTF-8 is
        repaired when `fix_text` is set (then `repaired` is true).
        """
        if self._text is None:
            data, text, problem = self._decoded()
            self._decoding = None  # the content bytes are not kept while the text is read
            if problem is not None:
                self.notices.add(*problem)
            if self.encoding != "utf-8" or b"\x00" in data:  # bytes are faster to look through
                text = self._replace_nuls(text)
            if self.fix_text and may_hold_mojibake(data, self.encoding):
                text = self._repair(text)
            self._text = text
        return self._text

    def decodes_cleanly(self) -> bool:
        """Whether the whole content decodes without a bad byte (decoded once, and kept
        for `read_text`)."""
        return self._decoded()[2] is None

    def _decoded(self) -> tuple[bytes, str, tuple[str, int] | None]:
        """(content, its text with LF line ends and no terminal escapes, decoding problem)."""
        if self._decoding is None:
            if len(self.head) < HEAD_SIZE:
                data = self.head  # the head already holds the whole content
            elif self._rest is not None:
                # Text loaders read all at once: skip the head-replaying wrapper of `stream`.
                data = self.head + self._read_rest(self._rest, len(self.head))
            else:
                data = self._read_rest(self.stream, 0)
            self.encoding, text, problem = decode_bytes(data)
            text = _normalized(text, data, self.encoding)
            self._decoding = (data, text, problem)
        return self._decoding

    def _read_rest(self, stream: BinaryIO, held: int) -> bytes:
        if self.max_whole is None:
            return stream.read()
        return read_whole(stream, self.max_whole, held)

    def _replace_nuls(self, text: str) -> str:
        if "\x00" not in text:
            return text
        count = text.count("\x00")
        line = line_of(text, text.index("\x00"))
        self.notices.add(f"{_plural(count, 'NUL byte')} replaced with U+FFFD", line)
        return text.replace("\x00", "\ufffd")

    def _repair(self, text: str) -> str:
        repaired = repair_mojibake(text)
        self.repaired = repaired != text
        return repaired


# --- what kind of content ---------------------------------------------------

_BINARY_MAGICS = (
    b"\x89PNG\r\n\x1a\n",
    b"\xff\xd8\xff",  # JPEG
    b"GIF87a",
    b"GIF89a",
    b"%PDF-",
    b"\x7fELF",
    b"SQLite format 3\x00",
    b"PK\x03\x04",  # zip, docx, epub, jar (only when the walk could not open it)
    b"\x1f\x8b",  # gzip
    b"\xfd7zXZ\x00",
    b"\x28\xb5\x2f\xfd",  # zstd
    b"7z\xbc\xaf\x27\x1c",
    b"Rar!\x1a\x07",
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",  # old MS Office
    b"\xca\xfe\xba\xbe",  # Java class, Mach-O universal
    b"\xcf\xfa\xed\xfe",  # Mach-O 64-bit
    b"\x00asm",
    b"OggS",
    b"fLaC",
    b"ID3",  # MP3
    b"wOFF",
    b"wOF2",
)
_RIFF_KINDS = (b"WEBP", b"WAVE", b"AVI ")

# Bytes that plain text may hold besides printable ones: \b \t \n \v \f \r and ESC.
_TEXT_CONTROLS = b"\x08\t\n\x0b\x0c\r\x1b"
_CONTROL_BYTES = bytes(b for b in range(0x20) if b not in _TEXT_CONTROLS) + b"\x7f"
_NOT_CONTROL = bytes(b for b in range(256) if b not in _CONTROL_BYTES)
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")
_MAX_ODD_SHARE = 0.10


def _is_blank(data: bytes, encoding: str) -> bool:
    """Whether `data` decodes to whitespace only; UTF-8 that starts with a printable
    ASCII character after ASCII whitespace is not, and is not decoded to find out."""
    if encoding == "utf-8":
        content = data.lstrip()
        if not content:
            return True
        if 0x20 < content[0] < 0x7F:
            return False
    return not data.decode(encoding, errors="replace").strip()


def classify_head(head: bytes) -> str | None:
    """A skip reason ("empty file", "binary file") for content starting with `head`, or None.

    - "empty file": nothing but whitespace (after any BOM), when the head is the
      whole content (shorter than HEAD_SIZE).
    - "binary file": a known binary magic (PNG, JPEG, GIF, PDF, ELF, SQLite,
      archives, ...); or NUL bytes in a head that is not UTF-16/32 (BOM or the
      BOM-less pattern) unless the other bytes read as text — at most 10% of
      them control bytes (other than tab, newlines, FF, VT, BS, ESC) or bytes
      invalid in UTF-8. So a text file with stray NULs is still text.
    """
    if (
        head.startswith(_BINARY_MAGICS)
        or head[4:8] == b"ftyp"
        or (head[:4] == b"RIFF" and head[8:12] in _RIFF_KINDS)
    ):
        return "binary file"
    encoding, bom = sniff_encoding(head)
    if len(head) < HEAD_SIZE and _is_blank(head[bom:], encoding):
        return "empty file"
    if encoding != "utf-8" or b"\x00" not in head:
        return None
    return None if _reads_as_text(head.replace(b"\x00", b"")) else "binary file"


def _reads_as_text(data: bytes) -> bool:
    if not data:
        return False
    controls = len(data.translate(None, _NOT_CONTROL))
    undecodable = len(_ESCAPED_BYTE.findall(data.decode("utf-8", errors="surrogateescape")))
    return controls + undecodable <= _MAX_ODD_SHARE * len(data)


# --- encodings -------------------------------------------------------------

_BOMS = (  # UTF-32 first: its LE BOM starts with the UTF-16 LE one
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)
_UTF16_SAMPLE = 4096


def sniff_encoding(head: bytes) -> tuple[str, int]:
    """(codec, BOM length) for content starting with `head`; UTF-8 unless shown otherwise.

    UTF-16 without a BOM is recognised only when it is certain: every other byte is
    NUL for at least 30% of the characters (ASCII, as JSON's punctuation and keys
    are), and the result reads as text. When nearly all (>= 90%) are ASCII, the
    bytes between may be NUL for at most 1% and at most 10% may be control
    characters; otherwise (U+AC00 and U+4E00, common in Korean and Chinese, have a
    NUL byte) at most 5% NUL between and 1% characters neither printable nor space.
    """
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return encoding, len(bom)
    return _utf16_without_bom(head[:_UTF16_SAMPLE]) or "utf-8", 0


def _utf16_without_bom(sample: bytes) -> str | None:
    pairs = len(sample) // 2
    if pairs < 2 or b"\x00" not in sample:  # what follows needs 30% of them NUL
        return None
    low_first, high_first = sample[0 : 2 * pairs : 2], sample[1 : 2 * pairs : 2]
    for encoding, units, zeros in (
        ("utf-16-le", low_first, high_first),
        ("utf-16-be", high_first, low_first),
    ):
        mostly_ascii = zeros.count(0) >= 0.9 * pairs
        if zeros.count(0) < 0.3 * pairs or units.count(0) > (0.01 if mostly_ascii else 0.05) * pairs:
            continue
        text = sample[: 2 * pairs].decode(encoding, errors="replace")
        if mostly_ascii:
            controls = sum(text.count(chr(c)) for c in _CONTROL_BYTES)
            if controls <= _MAX_ODD_SHARE * len(text):
                return encoding
        elif _reads_as_utf16_text(text):
            return encoding
    return None


def _reads_as_utf16_text(text: str) -> bool:
    """Mostly non-ASCII UTF-16 text: printable characters and whitespace, a character cut
    off at the end of the sample aside."""
    odd = sum(1 for char in text[:-1] if not (char.isprintable() or char.isspace()))
    return odd <= 0.01 * len(text)


def decode_bytes(data: bytes) -> tuple[str, str, tuple[str, int] | None]:
    """(encoding, text, problem): never fails; bad bytes become U+FFFD.

    `problem` is one notice (message, line) describing the bad bytes, if any.
    Byte offsets in it count from 0 in the file, BOM included.
    """
    encoding, bom = sniff_encoding(data[:HEAD_SIZE])
    body = data[bom:]
    if encoding == "utf-8":
        try:
            return encoding, body.decode("utf-8"), None
        except UnicodeDecodeError:
            pass
        # surrogateescape maps each bad byte to one lone surrogate: count and place them.
        text = body.decode("utf-8", errors="surrogateescape")
        first = _ESCAPED_BYTE.search(text)
        offset = bom + len(text[: first.start()].encode("utf-8", errors="surrogateescape"))
        line = line_of(text, first.start())
        bad = len(_ESCAPED_BYTE.findall(text))
        # Replaced as every other reader of the bytes does (one U+FFFD per maximal bad
        # sequence), so a JSON string and the file's text agree.
        text = body.decode("utf-8", errors="replace")
        message = (
            f"invalid UTF-8 at byte {offset} (line {line}); "
            f"decoded with replacement, {_plural(bad, 'bad byte')}"
        )
        return encoding, text, (message, line)
    try:
        return encoding, body.decode(encoding), None
    except UnicodeDecodeError as error:
        prefix = body[: error.start].decode(encoding, errors="replace")
        line = line_of(prefix, len(prefix))
        label = encoding.upper().replace("-LE", "").replace("-BE", "")
        message = (
            f"invalid {label} at byte {bom + error.start} (line {line}); decoded with replacement"
        )
        return encoding, body.decode(encoding, errors="replace"), (message, line)


def line_of(text: str, index: int) -> int:
    """1-based line of `text[index]`, counting CRLF, CR and LF each as one break."""
    prefix = text[:index]
    return prefix.count("\n") + prefix.count("\r") - prefix.count("\r\n") + 1


def _normalized(text: str, data: bytes, encoding: str) -> str:
    """`text`, the decoding of `data`, with LF line ends and no terminal escapes. UTF-8
    text holds a CR or an ESC only where its bytes do, and bytes are much faster to look
    through than a text of wide characters."""
    if encoding == "utf-8" and b"\r" not in data and b"\x1b" not in data:
        return text
    return strip_terminal_escapes(normalize_newlines(text))


def normalize_newlines(text: str) -> str:
    """CRLF and lone CR -> LF."""
    if "\r" not in text:
        return text
    return text.replace("\r\n", "\n").replace("\r", "\n")


# CSI (ESC [ params final), OSC (ESC ] ... BEL or ST) and the short ESC sequences.
# None can match a newline, so line numbers stay.
_TERMINAL_ESCAPE = re.compile(
    r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b\n]*(?:\x07|\x1b\\)|[ -/]*[0-~])"
)


def strip_terminal_escapes(text: str) -> str:
    """Remove ANSI colour and cursor sequences; a lone ESC before a newline stays."""
    if "\x1b" not in text:
        return text
    return _TERMINAL_ESCAPE.sub("", text)


# --- mojibake ---------------------------------------------------------------

# A UTF-8 lead byte read as Latin-1/cp1252 (Â..ô) followed by a continuation byte
# read the same way (U+0080..U+00BF or cp1252's € ‚ ƒ „ … † ‡ ˆ ‰ Š ‹ Œ Ž ‘ ’ “ ” • – — ˜ ™ š › œ ž Ÿ).
_CONTINUATIONS = "".join(
    chr(byte) + bytes([byte]).decode("cp1252", errors="ignore") for byte in range(0x80, 0xC0)
)
_MOJIBAKE_HINT = re.compile(f"[\u00c2-\u00f4][{re.escape(_CONTINUATIONS)}]")

# The same pair as it appears in the UTF-8 bytes of the file: searching them is
# much faster, as the search can skip ahead to each 0xC3 byte.
_MOJIBAKE_HINT_UTF8 = re.compile(
    b"\xc3[\x82-\xb4](?:"
    + b"|".join(re.escape(char.encode("utf-8")) for char in sorted(set(_CONTINUATIONS)))
    + b")"
)


def may_hold_mojibake(data: bytes, encoding: str | None) -> bool:
    """False when the decoded text of `data` surely holds no mojibake hint. Only UTF-8
    files without terminal escapes (whose removal can join characters) are checked."""
    if encoding != "utf-8" or b"\x1b" in data:
        return True
    return _holds_mojibake_hint(data)


# How many 0xC3 bytes are looked at one by one before the regex takes the rest.
_FEW_LEAD_BYTES = 32


def _holds_mojibake_hint(data: bytes) -> bool:
    """`_MOJIBAKE_HINT_UTF8.search(data)`, faster for the usual file: its few 0xC3 bytes (é,
    ü...) are found by `bytes.find`, far quicker than the regex's own scan, and each is
    tried in place; a file with many leaves the rest to the regex."""
    found = data.find(b"\xc3")
    for _ in range(_FEW_LEAD_BYTES):
        if found == -1:
            return False
        if _MOJIBAKE_HINT_UTF8.match(data, found):
            return True
        found = data.find(b"\xc3", found + 1)
    return found != -1 and _MOJIBAKE_HINT_UTF8.search(data, found) is not None


# C1 control characters: never in real text, so a repair that yields one guessed wrong.
_C1_CONTROL = re.compile("[\u0080-\u009f]")


def repair_mojibake(text: str) -> str:
    """`text` with double-encoded UTF-8 repaired and clean text left exactly as it is.

    A text double-encoded as a whole is undone in one step. Otherwise only lines
    showing a UTF-8 byte pair read as Latin-1/cp1252 go to ftfy's `fix_encoding`, and
    its fix is kept only when it re-reads misread UTF-8 and yields no C1 control; so
    clean text ("São Paulo", "Ângela", "Â†Â") never changes. A re-reading maps each
    character to itself or to its misread form, so line breaks never change either.
    """
    if not _MOJIBAKE_HINT.search(text):
        return text
    whole = _undo_double_encoding(text)
    if whole is not None:
        return whole
    return "\n".join(
        _reread_as_utf8(line) if _MOJIBAKE_HINT.search(line) else line
        for line in text.split("\n")
    )


def _reread_as_utf8(line: str) -> str:
    """ftfy's `fix_encoding` of one line when it only re-reads misread UTF-8, else the line."""
    fixed = ftfy.fix_encoding(line)
    if fixed == line or _C1_CONTROL.search(fixed) or not _is_rereading(line, fixed):
        return line
    return fixed


def _is_rereading(original: str, fixed: str) -> bool:
    """Whether `original` is `fixed` with some of its characters' UTF-8 bytes misread as
    cp1252 (Latin-1 where cp1252 has no character). ftfy's bolder guesses (a space that
    was a no-break space, C1 controls read as cp1252) are not, and they alter clean text
    such as "Â†Â"."""
    at = 0
    for char in fixed:
        misread = _misread(char)
        if misread != char and original.startswith(misread, at):
            at += len(misread)
        elif original.startswith(char, at):
            at += 1
        else:
            return False
    return at == len(original)


def _misread(char: str) -> str:
    """How a character looks when its UTF-8 bytes are read as cp1252."""
    return char.encode("utf-8").decode("latin-1").translate(_C1_TO_CP1252)


# cp1252's printable characters for bytes 0x80-0x9F, mapped back to those bytes' Latin-1
# code points, so one latin-1 encode undoes both misreadings, even mixed in one file.
_CP1252_TO_C1 = {
    ord(char): byte
    for byte in range(0x80, 0xA0)
    if (char := bytes([byte]).decode("cp1252", errors="ignore"))
}


_C1_TO_CP1252 = {c1: chr(cp1252) for cp1252, c1 in _CP1252_TO_C1.items()}


def _undo_double_encoding(text: str) -> str | None:
    """The whole text re-read as UTF-8, when every character of it is part of the
    mistake (dumps double-encoded as a whole); a fast path before ftfy's line-by-line."""
    try:
        reread = _misread_bytes(text).decode("utf-8")
    except UnicodeError:
        return None
    return None if _C1_CONTROL.search(reread) else reread


def _misread_bytes(text: str) -> bytes:
    """The bytes that, read as cp1252 (Latin-1 where cp1252 has no character), give
    `text`; raises UnicodeEncodeError when there are none."""
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        pass
    # C1 controls are bytes read as Latin-1, the rest as cp1252: the pieces between C1
    # controls are encoded by the codec, much faster than translating every character.
    pieces = _C1_CONTROL_PIECES.split(text)
    return b"".join(piece.encode("latin-1" if at % 2 else "cp1252")
                    for at, piece in enumerate(pieces))


_C1_CONTROL_PIECES = re.compile("([\u0080-\u009f]+)")


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
