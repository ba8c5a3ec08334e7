"""Replays: a hit turn whose text, once folded, is that of a hit turn met earlier.

CONTEXT blocks replay earlier conversations and forks re-post turns, so the same text
recurs. What identifies a turn's text is a hash of its folding (`digest_of_folded`),
made where the turn is matched; whether it was met before is decided in input order
(`Replays`), by the one tally that sees every result, so the outcome does not depend on
how many processes scanned or how the work was sharded.
"""

from __future__ import annotations

import hashlib

# A turn's folding is hashed this many characters at a time.
DIGEST_PIECE = 1 << 20


def digest_of_folded(folded: str) -> bytes:
    """What identifies a turn's text for replay detection: a hash of its folding (hashed
    a piece at a time, so a long one is not encoded whole)."""
    digest = hashlib.blake2b(digest_size=16)
    for start in range(0, len(folded), DIGEST_PIECE):
        digest.update(folded[start : start + DIGEST_PIECE].encode("utf-8"))
    return digest.digest()


class Replays:
    """The digests of the hit turns met so far, in input order."""

    def __init__(self) -> None:
        self._seen: set[bytes] = set()

    def met_again(self, digest: bytes) -> bool:
        """Whether a turn with this digest was met before; from now on it has been."""
        again = digest in self._seen
        self._seen.add(digest)
        return again
