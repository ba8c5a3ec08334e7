"""Replays: a hit turn whose text, once folded, is that of a hit turn met earlier.

CONTEXT blocks replay earlier conversations and forks re-post turns, so the same text
recurs. What identifies a turn's text is a hash of its folding (`digest_of_folded`),
made where the turn is matched; whether it was met before is decided in input order
(`Replays`), by the one tally that sees every result, so the outcome does not depend on
how many processes scanned or how the work was sharded.
"""

from __future__ import annotations

import hashlib


def digest_of_folded(folded: str) -> bytes:
    """What identifies a turn's text for replay detection: a hash of its folding."""
    return hashlib.blake2b(folded.encode("utf-8"), digest_size=16).digest()


class Replays:
    """The digests of the hit turns met so far, in input order."""

    def __init__(self) -> None:
        self._seen: set[bytes] = set()

    def met_again(self, digest: bytes) -> bool:
        """Whether a turn with this digest was met before; from now on it has been."""
        again = digest in self._seen
        self._seen.add(digest)
        return again
