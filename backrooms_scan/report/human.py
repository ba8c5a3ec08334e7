"""What the table and plain reporters share: collecting snippets, wording the footer."""

from __future__ import annotations

import re
from collections import defaultdict

from backrooms_scan.report.base import Reporter
from backrooms_scan.report.events import HitPositions
from backrooms_scan.report.snippets import Snippet, make_snippet


class HumanReporter(Reporter):
    def __init__(self, out, options):
        super().__init__(out, options)
        self.snippets: dict[str, list[Snippet]] = defaultdict(list)

    def file_done(self, result, records, counts) -> None:
        if not self.options.snippets or self.options.count_only:
            return
        limit, key = self.options.max_snippets, SNIPPET_KEYS.get(self.options.snippet_order)
        positions = HitPositions()
        for record in records:
            if record.replay:
                continue
            held = self.snippets[f"{record.hit.set}/{record.hit.pattern}"]
            if limit is None or len(held) < limit or key is not None:
                held.append(make_snippet(record.hit, self.options.context, positions))
            if key is not None and limit is not None and len(held) > 4 * limit:
                held.sort(key=key)  # memory stays bounded by the limit, not the hits
                del held[limit:]

    def snippet_sections(self, summary: dict) -> list[tuple[str, list[Snippet]]]:
        """Snippets per pattern in the table's order, each section sorted as asked."""
        key, limit = SNIPPET_KEYS.get(self.options.snippet_order), self.options.max_snippets
        sections = []
        for row in summary["patterns"]:
            found = self.snippets.get(f"{row['set']}/{row['pattern']}")
            if found:
                ordered = sorted(found, key=key) if key is not None else found
                sections.append((f"{row['set']}/{row['pattern']}", ordered[:limit]))
        return sections


def words(text: str) -> list[str]:
    return re.findall(r"\w+", text.casefold())


SNIPPET_KEYS = {
    "left": lambda s: words(s.left)[::-1],  # the nearest word first, as concordances sort
    "right": lambda s: words(s.right),
    "pattern": lambda s: s.match.casefold(),
}


def keyword_column(snippets: list[Snippet]) -> int:
    """The width the left contexts are right-aligned to, so the hits line up (KWIC)."""
    return max((len(s.left) for s in snippets), default=0)


PATTERN_COLUMNS = ("hits", "turns with hits", "convs with hits", "per 1k turns searched")
SET_COLUMNS = ("distinct", "turns with hits", "convs with hits", "per 1k turns searched")
BREAKDOWN_COLUMNS = ("hits", "distinct", "turns searched", "per 1k turns searched")


def pattern_rows(summary: dict) -> list[tuple[str, int, int, int, str]]:
    return [
        (f"{r['set']}/{r['pattern']}", r["hits"], r["turns"], r["conversations"],
         format_rate(r["rate_per_1000_turns"]))
        for r in summary["patterns"]
    ]


RELATION_HEADER = ("set", "model", "originated", "only echoed", "prompted")


def relation_rows(summary: dict) -> list[tuple[str, str, int, int, int]]:
    """The origin/echo section: conversations per set and model."""
    return [(r["set"], r["model"] or "(unknown)", r["originated"], r["echoed_only"],
             r["prompted"]) for r in summary["relations"]]


def set_rows(summary: dict) -> list[tuple[str, int, int, int, str]]:
    return [(r["set"], r["occurrences"], r["turns"], r["conversations"],
             format_rate(r["rate_per_1000_turns"])) for r in summary["sets"]]


def breakdown_rows(rows: list[dict]) -> list[tuple[str, str, str, str, str]]:
    return [(r["value"] or "(unknown)", str(r["hits"]), str(r["occurrences"]),
             "-" if r["turns"] is None else str(r["turns"]),
             format_rate(r["rate_per_1000_turns"])) for r in rows]


def patterns_note(summary: dict) -> str:
    """What the pattern table's counts are, told under it."""
    return ("hits: each pattern counted on its own, so a phrase and its parts are hits of "
            "each; distinct: a set's overlapping hits merged into one; rates per 1,000 of the "
            f"{summary['turns_matched']} turns searched")


def breakdown_note(dimension: str) -> str:
    if dimension == "conversation":
        return ("hits and distinct as above; turns searched are not counted per conversation")
    return (f"hits and distinct as above; turns searched: the turns of each {dimension} "
            "that passed the filters, with hits or not")


def shortened(text: str, width: int) -> str:
    """`text` cut in the middle to `width` characters, so both ends of a path stay readable."""
    if len(text) <= width:
        return text
    head = (width - 1) // 2
    return text[:head] + "…" + text[len(text) - (width - 1 - head):]


def format_rate(rate: float | None) -> str:
    return "-" if rate is None else f"{rate:.2f}"


def counted(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def footer_line(summary: dict, footer: dict) -> str:
    turns = summary["turns"]
    parts = [
        counted(summary["files_scanned"], "file") + " scanned",
        f"{summary['files_skipped']} skipped",
    ]
    if summary["errors"]:
        parts.append(counted(summary["errors"], "error"))
    if summary["files_repaired"]:
        parts.append(f"{summary['files_repaired']} repaired")
    parts += [
        counted(summary["conversations"], "conversation"),
        f"{turns['spoken']} spoken / {turns['system']} system / {turns['context']} context turns",
        (f"{counted(summary['hits'], 'pattern hit')} ({summary['hits_including_replays']} with "
         f"replays), {summary['occurrences']} distinct"),
        f"{footer['elapsed_seconds']:.2f} s",
    ]
    line = ", ".join(parts)
    return ("PARTIAL (interrupted): " + line) if footer.get("partial") else line


def chart_series(tally) -> dict[str, list[tuple[str, int]]]:
    """Hits per model, and per month where timestamps exist."""
    series = {"model": sorted(tally.by_value["model"].items(), key=lambda kv: (-kv[1], kv[0]))}
    months = sorted((m, n) for m, n in tally.by_value["month"].items() if m)
    if months:
        series["month"] = months
    return series
