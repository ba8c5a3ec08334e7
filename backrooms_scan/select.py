"""Which turns a scan looks at: role, model, speaker, scenario and date filters."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase

from backrooms_scan.model_names import canonical_model, id_spelling
from backrooms_scan.records import Role, Turn

GLOB_CHARACTERS = frozenset("*?[")


@dataclass(frozen=True)
class Selection:
    """Filters applied to turns before matching, compared case-insensitively: a pattern
    with `*`, `?` or `[` is a glob that must match the whole value, any other a substring
    (`claude-3-opus` selects `claude-3-opus-20240229`).

    `since`/`until` are inclusive ISO dates (YYYY-MM-DD or a prefix such as
    YYYY-MM); a turn with no timestamp is left out when either is given.
    """

    roles: frozenset[Role] = frozenset({Role.SPOKEN})
    models: tuple[str, ...] = ()
    speakers: tuple[str, ...] = ()
    scenarios: tuple[str, ...] = ()
    since: str | None = None
    until: str | None = None

    def __post_init__(self) -> None:
        # Turns carry canonical model names; a model named without wildcards is too.
        object.__setattr__(self, "models", tuple(map(_canonical_glob, self.models)))

    def select(self, turns: Sequence[Turn]) -> list[Turn]:
        """The turns wanted, in order."""
        if self.models or self.speakers or self.scenarios or (self.since, self.until) != (None, None):
            return [turn for turn in turns if self.wants(turn)]
        roles = self.roles
        return [turn for turn in turns if turn.role in roles]

    def wants(self, turn: Turn) -> bool:
        return (
            turn.role in self.roles
            and _matches_any(turn.model, self.models)
            and _matches_any(turn.speaker, self.speakers)
            and _matches_any(turn.scenario, self.scenarios)
            and self._in_dates(turn.timestamp)
        )

    def filters(self) -> dict[str, tuple[str, ...]]:
        """The model, speaker and scenario patterns given, by field."""
        given = {"model": self.models, "speaker": self.speakers, "scenario": self.scenarios}
        return {name: patterns for name, patterns in given.items() if patterns}

    def values_seen(self, turns: Sequence[Turn]) -> set[tuple[str, str]]:
        """(field, value) of the filtered fields among turns of the wanted roles, so a
        filter that selects nothing can name the values there are."""
        fields = tuple(self.filters())
        if not fields:
            return set()
        return {(name, value) for turn in turns if turn.role in self.roles
                for name in fields if (value := getattr(turn, name))}

    def _in_dates(self, timestamp: str | None) -> bool:
        if self.since is None and self.until is None:
            return True
        if not timestamp:
            return False
        if self.since is not None and timestamp[: len(self.since)] < self.since:
            return False
        return self.until is None or timestamp[: len(self.until)] <= self.until


def _canonical_glob(glob: str) -> str:
    """A model named in full becomes its canonical name; a glob is spelled as ids are."""
    if GLOB_CHARACTERS.isdisjoint(glob):
        return canonical_model(glob)
    return id_spelling(glob)


def matches(value: str | None, pattern: str) -> bool:
    """Whether one filter pattern selects `value`: a glob, or else a substring."""
    folded, wanted = (value or "").casefold(), pattern.casefold()
    if GLOB_CHARACTERS.isdisjoint(wanted):
        return bool(value) and wanted in folded
    return fnmatchcase(folded, wanted)


def _matches_any(value: str | None, patterns: tuple[str, ...]) -> bool:
    return not patterns or any(matches(value, pattern) for pattern in patterns)
