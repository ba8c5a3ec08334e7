"""`--fail-if` expressions: `NAME OP NUMBER`, checked against a scan summary."""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass

_OPERATORS = {">=": operator.ge, "<=": operator.le, "==": operator.eq, "!=": operator.ne,
              ">": operator.gt, "<": operator.lt, "=": operator.eq}
_EXPRESSION = re.compile(r"^\s*(?P<name>[^<>=!\s]+)\s*(?P<op>>=|<=|==|!=|>|<|=)\s*(?P<number>\d+)\s*$")
_SUMMARY_NAMES = ("hits", "hits_including_replays", "files_scanned", "files_skipped",
                  "files_repaired", "conversations", "turns_matched", "errors")


class ThresholdError(ValueError):
    pass


@dataclass(frozen=True)
class Threshold:
    """Trips when `name op number` is true of the summary."""

    text: str
    name: str
    op: str
    number: int

    def value(self, summary: dict) -> int:
        if self.name in _SUMMARY_NAMES:
            return summary[self.name]
        rows = [r for r in summary["patterns"]
                if self.name in (r["set"], f"{r['set']}/{r['pattern']}", r["pattern"])]
        if not rows:
            raise ThresholdError(f"--fail-if {self.text!r}: no count or pattern named {self.name!r}")
        return sum(r["hits"] for r in rows)

    def trips(self, summary: dict) -> bool:
        return _OPERATORS[self.op](self.value(summary), self.number)


def parse_threshold(text: str) -> Threshold:
    found = _EXPRESSION.match(text)
    if not found:
        raise ThresholdError(
            f"--fail-if {text!r}: expected NAME OP NUMBER, e.g. 'hits>100' or 'heart-sutra-mantra>0'"
        )
    return Threshold(text.strip(), found["name"], found["op"], int(found["number"]))


def tripped(thresholds: list[Threshold], summary: dict) -> list[str]:
    """The reason line of every threshold that trips, in the order given."""
    return [f"--fail-if {threshold.text!r} tripped: {threshold.name} = {threshold.value(summary)}"
            for threshold in thresholds if threshold.trips(summary)]
