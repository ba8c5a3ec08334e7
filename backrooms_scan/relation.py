"""Origin and echo: how each occurrence of a pattern set stands to the set's others in its
conversation.

Decided per conversation, in turn order, from the turns in which each set occurs (hits
or not counted, prompts or spoken), so the answer is the same however the input is
split over processes or shards. A turn's hits of one set share one relation.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

from backrooms_scan.records import Role


class Relation(str, Enum):
    """Where a set's occurrence stands in its conversation."""

    PROMPTED = "prompted"  # in a prompt, or a prompt held the set before anyone said it
    ORIGIN = "origin"  # the first spoken occurrence, no prompt before it holding the set
    REPEAT = "repeat"  # said again by the speaker who originated it
    ECHO = "echo"  # said by another speaker after it was originated

    def __str__(self) -> str:
        return self.value


RELATIONS = tuple(relation.value for relation in Relation)


@dataclass(frozen=True, slots=True)
class Occurrence:
    """The sets that occur in one turn of a conversation."""

    index: int
    speaker: str
    role: Role
    sets: frozenset[str]


def decide_relations(occurrences: Iterable[Occurrence]) -> dict[tuple[int, str], Relation]:
    """The relation of each (turn index, set) among `occurrences` of one conversation."""
    prompted: set[str] = set()
    originator: dict[str, str] = {}
    relations: dict[tuple[int, str], Relation] = {}
    for occurrence in sorted(occurrences, key=lambda o: o.index):
        for set_name in sorted(occurrence.sets):
            relations[(occurrence.index, set_name)] = _relation(
                occurrence, set_name, prompted, originator)
    return relations


def _relation(occurrence: Occurrence, set_name: str, prompted: set[str],
              originator: dict[str, str]) -> Relation:
    if occurrence.role is not Role.SPOKEN:
        if set_name not in originator:
            prompted.add(set_name)
        return Relation.PROMPTED
    if set_name in prompted:
        return Relation.PROMPTED
    if set_name not in originator:
        originator[set_name] = occurrence.speaker
        return Relation.ORIGIN
    return Relation.REPEAT if originator[set_name] == occurrence.speaker else Relation.ECHO
