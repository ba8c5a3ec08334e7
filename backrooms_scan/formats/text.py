"""Plain text that no format claims, read as one spoken turn of an unknown speaker.

This format is never sniffed: `formats.detect` falls back to it for stdin and for files
named on the command line, so `echo "gate gate paragate" | backrooms-scan scan -` is
searched. Files met while walking a directory that no format claims are skipped instead
("not a recognised transcript format"), so a dump's README or license files are not
counted as speech. `--input-format text` reads any file this way.

The turn is the whole text without its surrounding blank lines, verbatim; its speaker is
`(unknown)`, with no model, scenario or timestamp, and the file gets a notice saying it
was read as plain text.
"""

from __future__ import annotations

from collections.abc import Iterator

from backrooms_scan.decode import Document
from backrooms_scan.formats.positions import LineLocator, trimmed_slice
from backrooms_scan.records import Conversation, Role, SkipFile, Turn

NAME = "text"
MAX_SCORE = 0.0
UNKNOWN_SPEAKER = "(unknown)"
NOTICE = f"no transcript format recognised: read as plain text, one spoken turn of speaker {UNKNOWN_SPEAKER}"


def sniff(name: str, head_text: str) -> float:
    """Never: plain text is what is left when no format claims a file."""
    return 0.0


def load(doc: Document) -> Iterator[Conversation]:
    """One conversation of one spoken turn holding the whole text."""
    text = doc.read_text()
    body, offset = trimmed_slice(text, 0, len(text))
    if not body:
        raise SkipFile("empty file")
    doc.notices.add(NOTICE)
    line, column = LineLocator(text)(offset)
    turn = Turn(conversation=doc.path, index=1, speaker=UNKNOWN_SPEAKER, role=Role.SPOKEN,
                text=body, source=doc.path, line=line, column=column)
    yield Conversation(doc.path, doc.path, NAME, (turn,))
