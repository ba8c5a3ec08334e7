"""`--format html`: one self-contained page to look at and to send: the summary and its
accounting, the tables, bar charts and a timeline in SVG, the origin-and-echo table and
the concordance, which sorts, filters, pages and opens each hit's whole turn.

Nothing is fetched: the style, the script and the charts are in the page. Transcript
text reaches the page only as JSON inside a non-executed script element (with `<`, `>`
and `&` escaped) and is put into the document as text nodes, never parsed as markup;
the Content-Security-Policy lets only the page's own script run, by its nonce.
"""

from __future__ import annotations

import html
import json
import secrets
from importlib.resources import files

from backrooms_scan.relation import RELATIONS
from backrooms_scan.report.base import Reporter
from backrooms_scan.report.events import HitPositions
from backrooms_scan.report.human import (
    BREAKDOWN_COLUMNS,
    PATTERN_COLUMNS,
    RELATION_HEADER,
    SET_COLUMNS,
    breakdown_note,
    breakdown_rows,
    footer_line,
    format_rate,
    pattern_rows,
    patterns_note,
    relation_rows,
    set_rows,
)
from backrooms_scan.report.transcript import visible

CHART_WIDTH = 640
BAR_HEIGHT = 18
MAX_BARS = 30


def escaped(value: object) -> str:
    return html.escape(str(value), quote=True)


def script_json(data: object) -> str:
    """JSON that cannot end the script element holding it, nor open a comment or markup."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


class HtmlReporter(Reporter):
    def __init__(self, out, options):
        super().__init__(out, options)
        self.turns: list[list] = []
        self.turn_index: dict[int, int] = {}
        self.hits: list[list] = []

    def file_done(self, result, records, counts) -> None:
        if self.options.count_only:
            return
        positions = HitPositions()
        for record in records:
            hit, turn = record.hit, record.hit.turn
            line, column = positions.of(hit)
            self.hits.append([self._turn_number(turn), hit.set, hit.pattern, hit.start, hit.end,
                              line, column, record.relation.value, int(record.replay)])

    def _turn_number(self, turn) -> int:
        number = self.turn_index.get(id(turn))
        if number is None:
            number = self.turn_index[id(turn)] = len(self.turns)
            self.turns.append([turn.conversation, turn.index, turn.speaker, turn.model or "",
                               turn.role.value, turn.source, turn.line, turn.column,
                               turn.timestamp or "", visible(turn.text)])
        return number

    def finish(self, tally, summary, footer) -> None:
        nonce = secrets.token_urlsafe(16)
        assets = files("backrooms_scan.report")
        style = assets.joinpath("html_report.css").read_text(encoding="utf-8")
        script = assets.joinpath("html_report.js").read_text(encoding="utf-8")
        data = {"turns": self.turns, "hits": self.hits, "relations": list(RELATIONS)}
        sections = [
            accounting_section(summary, footer),
            table_section("Pattern sets", ("set", *SET_COLUMNS), set_rows(summary),
                          "sets"),
            table_section("Patterns", ("pattern", *PATTERN_COLUMNS), pattern_rows(summary),
                          "patterns", note=patterns_note(summary)),
            *(table_section(f"By {dimension}", (dimension, *BREAKDOWN_COLUMNS),
                            breakdown_rows(rows), f"by-{dimension}", note=breakdown_note(dimension))
              for dimension, rows in summary["by"].items()),
            rates_section("Rate per model", "model", tally.breakdown("model")),
            rates_section("Rate per speaker", "speaker", tally.breakdown("speaker")),
            timeline_section(tally),
            table_section("Origin and echo (conversations)", RELATION_HEADER,
                          relation_rows(summary), "relations",
                          note="per set and model: conversations it said the set in first, "
                               "only after another speaker, or after a prompt held it"),
        ]
        if not self.options.count_only:
            sections.append(CONCORDANCE)
        self.out.write(PAGE.format(
            nonce=nonce, style=style, script=script, data=script_json(data),
            title=escaped(f"backrooms-scan: {summary['hits']} hits"),
            footer=escaped(footer_line(summary, footer)), sections="\n".join(sections)))


def accounting_section(summary: dict, footer: dict) -> str:
    turns = summary["turns"]
    rows = [
        ("files scanned", summary["files_scanned"]),
        ("files skipped", summary["files_skipped"]),
        ("files repaired (double-encoded UTF-8)", summary["files_repaired"]),
        ("errors", summary["errors"]),
        ("conversations", summary["conversations"]),
        ("turns read: spoken / system / context",
         f"{turns['spoken']} / {turns['system']} / {turns['context']}"),
        ("turns searched", summary["turns_matched"]),
        ("pattern hits (counted)", summary["hits"]),
        ("pattern hits including replays", summary["hits_including_replays"]),
        ("distinct occurrences", summary["occurrences"]),
        ("formats", ", ".join(f"{name} {n}" for name, n in summary["formats"].items()) or "-"),
        ("elapsed", f"{footer['elapsed_seconds']:.2f} s"
         + (" (partial: interrupted)" if footer.get("partial") else "")),
    ]
    body = "".join(f"<tr><th scope=row>{escaped(k)}</th><td>{escaped(v)}</td></tr>"
                   for k, v in rows)
    skipped = "".join(f"<li><code>{escaped(s['path'])}</code>: {escaped(s['reason'])}</li>"
                      for s in summary["skipped"])
    details = (f"<details><summary>{len(summary['skipped'])} skipped files</summary>"
               f"<ul>{skipped}</ul></details>") if skipped else ""
    return (f"<section id=accounting><h2>Summary</h2><table class=kv>{body}</table>"
            f"{details}</section>")


def table_section(title: str, header: tuple, rows: list[tuple], name: str,
                  note: str | None = None) -> str:
    head = "".join(f"<th scope=col>{escaped(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{escaped(c)}</td>" for c in row) + "</tr>"
                   for row in rows) or f"<tr><td colspan={len(header)}>none</td></tr>"
    caption = f"<p class=note>{escaped(note)}</p>" if note else ""
    return (f"<section id={name}><h2>{escaped(title)}</h2><table class=counts>"
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{caption}</section>")


def rates_section(title: str, dimension: str, rows: list[dict]) -> str:
    rated = [r for r in rows if r["rate_per_1000_turns"] is not None and r["hits"]]
    rated.sort(key=lambda r: (-r["rate_per_1000_turns"], r["value"]))
    shown = rated[:MAX_BARS]
    note = (f"hits per 1,000 turns searched of each {dimension}"
            + (f"; the {MAX_BARS} highest of {len(rated)}" if len(rated) > MAX_BARS else ""))
    return (f"<section id=rate-{dimension}><h2>{escaped(title)}</h2>"
            f"{bar_chart([(r['value'] or '(unknown)', r['rate_per_1000_turns'], r['hits']) for r in shown])}"
            f"<p class=note>{escaped(note)}</p></section>")


def svg_open(width: int, height: int) -> str:
    return (f'<svg class=chart width="{width}" height="{height}" role="img" '
            f'viewBox="0 0 {width} {height}">')


def bar_chart(bars: list[tuple[str, float, int]]) -> str:
    """Horizontal bars: (label, value, hits), as SVG."""
    if not bars:
        return "<p>no hits</p>"
    label_width, top = 220, max(value for _, value, _ in bars) or 1
    room = CHART_WIDTH - label_width - 90
    height = BAR_HEIGHT * len(bars) + 4
    parts = [svg_open(CHART_WIDTH, height)]
    for i, (label, value, hits) in enumerate(bars):
        y = i * BAR_HEIGHT + 2
        width = max(1.0, value * room / top)
        short = label if len(label) <= 32 else label[:31] + "…"
        parts.append(
            f'<g><title>{escaped(label)}: {format_rate(value)} per 1k turns, {hits} hits</title>'
            f'<text x="{label_width - 6}" y="{y + 13}" text-anchor="end">{escaped(short)}</text>'
            f'<rect x="{label_width}" y="{y + 2}" width="{width:.1f}" height="{BAR_HEIGHT - 5}"/>'
            f'<text x="{label_width + width + 4:.1f}" y="{y + 13}">{format_rate(value)}</text></g>')
    parts.append("</svg>")
    return "".join(parts)


def timeline_section(tally) -> str:
    months = sorted((m, n) for m, n in tally.by_value["month"].items() if m)
    if not months:
        return ("<section id=timeline><h2>Hits over months</h2>"
                "<p>no hit has a timestamp</p></section>")
    step = max(14, min(48, (CHART_WIDTH - 40) // len(months)))
    width, height, top = 40 + step * len(months), 180, max(n for _, n in months) or 1
    parts = [svg_open(width, height + 50)]
    for i, (month, hits) in enumerate(months):
        bar = max(1.0, hits * (height - 20) / top)
        x = 30 + i * step
        parts.append(
            f'<g><title>{escaped(month)}: {hits} hits</title>'
            f'<rect x="{x}" y="{height - bar:.1f}" width="{step - 4}" height="{bar:.1f}"/>'
            f'<text x="{x + (step - 4) / 2:.1f}" y="{height - bar - 3:.1f}" '
            f'text-anchor="middle">{hits}</text>'
            f'<text class=month x="{x + (step - 4) / 2:.1f}" y="{height + 14}" '
            f'text-anchor="end" transform="rotate(-45 {x + (step - 4) / 2:.1f} {height + 14})">'
            f'{escaped(month)}</text></g>')
    parts.append("</svg>")
    return (f"<section id=timeline><h2>Hits over months</h2>{''.join(parts)}"
            "<p class=note>counted hits per month of the turn's timestamp</p></section>")


CONCORDANCE = """\
<section id=concordance><h2>Concordance</h2>
<form id=filters>
<label>set <select data-filter=set><option value="">all</option></select></label>
<label>model <select data-filter=model><option value="">all</option></select></label>
<label>speaker <select data-filter=speaker><option value="">all</option></select></label>
<label>relation <select data-filter=relation><option value="">all</option></select></label>
<label>text <input type=search data-filter=text placeholder="in the match or context"></label>
<label>rows <select id=page-size><option>50</option><option selected>100</option><option>500</option></select></label>
</form>
<p id=paging><button type=button id=prev>&larr; previous</button>
<span id=showing></span>
<button type=button id=next>next &rarr;</button></p>
<table id=hits class=concordance>
<thead><tr><th></th>
<th data-sort=set>set</th><th data-sort=pattern>pattern</th><th data-sort=model>model</th>
<th data-sort=speaker>speaker</th><th data-sort=relation>relation</th><th data-sort=role>role</th>
<th data-sort=where>where</th><th class=kwic colspan=3>in context</th></tr></thead>
<tbody></tbody></table>
<p class=note>Click a row to open its whole turn. Sort by a column's heading; again to reverse.
Replayed hits (not counted) are marked &#x21BA;.</p>
</section>"""

PAGE = """\
<!DOCTYPE html>
<html lang=en>
<head>
<meta charset=utf-8>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'nonce-{nonce}'; img-src data:">
<meta name=viewport content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{style}</style>
</head>
<body>
<header><h1>{title}</h1><p class=footer>{footer}</p></header>
<main>
{sections}
</main>
<script type="application/json" id=report-data>{data}</script>
<script nonce="{nonce}">{script}</script>
</body>
</html>
"""
