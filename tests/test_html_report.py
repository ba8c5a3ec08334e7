"""`-f html`: one self-contained page, checked as text and in a real headless Chromium.

In the browser: the page loads without console errors, filters and sorting change the
visible rows as the JSON Lines output of the same scan says they should, a row opens
its whole turn, pages hold 100 rows, and a transcript full of markup (`<script>`,
event handlers, `</script>`, comments, `<OOC>`, ANSI art) runs nothing and shows as text.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from pathlib import Path

import pytest
from headless_browser import chromium, missing
from mock_environment import invoke

from backrooms_scan.cli import sample_dir
from backrooms_scan.report.html import script_json

HOSTILE = Path(__file__).parent / "fixtures" / "html" / "conversation_1711111111_scenario_hostile.txt"
VANILLA = sample_dir() / "conversation_1709632800_scenario_vanilla backrooms.txt"


def html_report(*args: str) -> str:
    outcome = invoke("scan", *args, "-f", "html")
    assert outcome.status == 0, outcome.stderr
    return outcome.stdout


def jsonl_matches(*args: str) -> list[dict]:
    out = invoke("scan", *args, "-f", "jsonl").stdout
    return [e["data"] for e in map(json.loads, out.splitlines()) if e["type"] == "match"]


# --- the page as text ---------------------------------------------------------------------

def test_the_page_fetches_nothing():
    page = html_report("--sample")
    assert not re.search(r"<link|@import|url\(|\bsrc=|https?://", page, re.IGNORECASE)
    assert "default-src 'none'" in page


def test_transcript_text_cannot_close_the_data_element():
    text = script_json({"t": "</script><script>alert(1)</script><!-- & -->"})
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == {"t": "</script><script>alert(1)</script><!-- & -->"}
    page = html_report(str(HOSTILE))
    data = page.split('<script type="application/json" id=report-data>', 1)[1]
    assert data.index("</script>") == len(data.split("</script>", 1)[0])
    assert "window.__pwned" not in page.replace("window.__pwned = ", "")  # only inside JSON
    assert page.count("<script") == 2  # the data and the page's own script


def test_the_summary_tables_hold_the_summarys_counts():
    page = html_report("--sample")
    summary = json.loads(invoke("scan", "--sample", "-f", "json").stdout)
    assert f"<title>backrooms-scan: {summary['hits']} hits</title>" in page
    for row in summary["patterns"]:
        assert (f"<td>{row['set']}/{row['pattern']}</td><td>{row['hits']}</td>"
                f"<td>{row['turns']}</td><td>{row['conversations']}</td>") in page
    for row in summary["relations"]:
        assert (f"<td>{row['set']}</td><td>{row['model'] or '(unknown)'}</td>"
                f"<td>{row['originated']}</td><td>{row['echoed_only']}</td>"
                f"<td>{row['prompted']}</td>") in page


# --- in the browser -----------------------------------------------------------------------

reason = missing()
needs_browser = pytest.mark.skipif(
    reason is not None and not os.environ.get("CI"), reason=reason or "")


@pytest.fixture(scope="module")
def browser():
    if reason is not None:
        pytest.fail(f"CI must run the browser tests: {reason}")
    with chromium() as driver:
        yield driver


def open_page(browser, tmp_path, page: str, name: str = "report.html"):
    path = tmp_path / name
    path.write_text(page, encoding="utf-8")
    browser.get(path.as_uri())
    assert browser.execute_script("return document.body.dataset.ready") == "1"
    return browser


def console_problems(browser) -> list[dict]:
    return [entry for entry in browser.get_log("browser") if entry["level"] in ("SEVERE", "WARNING")]


def visible_column(browser, name: str) -> list[str]:
    return browser.execute_script(
        "return Array.from(document.querySelectorAll('#hits tbody tr.hit td.c-' + arguments[0]),"
        " td => td.textContent)", name)


def choose(browser, filter_name: str, value: str) -> None:
    browser.execute_script(
        "const s = document.querySelector('select[data-filter=' + arguments[0] + ']');"
        "s.value = arguments[1]; s.dispatchEvent(new Event('change'));", filter_name, value)


def showing(browser) -> str:
    return browser.find_element("id", "showing").text


@needs_browser
def test_the_sample_report_loads_without_console_errors(browser, tmp_path):
    open_page(browser, tmp_path, html_report("--sample"))
    assert console_problems(browser) == []
    matches = jsonl_matches("--sample")
    assert len(visible_column(browser, "set")) == len(matches)
    assert showing(browser) == f"1\u2013{len(matches)} of {len(matches)} hits"


@needs_browser
@pytest.mark.parametrize("filter_name", ["set", "model", "speaker", "relation"])
def test_each_filter_keeps_exactly_the_hits_with_that_value(browser, tmp_path, filter_name):
    open_page(browser, tmp_path, html_report("--sample"))
    matches = jsonl_matches("--sample")
    values = Counter(m[filter_name] or "(unknown)" for m in matches)
    assert len(values) > 1
    for value, count in values.items():
        choose(browser, filter_name, value)
        column = [v.removesuffix(" \u21BA") for v in visible_column(browser, filter_name)]
        assert column == [value] * count, (filter_name, value)
    choose(browser, filter_name, "")
    assert len(visible_column(browser, filter_name)) == len(matches)


@needs_browser
def test_filters_combine(browser, tmp_path):
    open_page(browser, tmp_path, html_report("--sample"))
    expected = [m for m in jsonl_matches("--sample")
                if m["set"] == "heart-sutra-mantra" and m["relation"] == "echo"]
    choose(browser, "set", "heart-sutra-mantra")
    choose(browser, "relation", "echo")
    assert visible_column(browser, "speaker") == [m["speaker"] for m in expected]
    assert expected


@needs_browser
def test_sorting_by_a_heading_orders_the_rows_and_again_reverses_them(browser, tmp_path):
    open_page(browser, tmp_path, html_report("--sample"))
    before = visible_column(browser, "speaker")
    heading = browser.find_element("css selector", "th[data-sort=speaker]")
    heading.click()
    ascending = visible_column(browser, "speaker")
    assert ascending == sorted(before) and ascending != before
    heading.click()
    assert visible_column(browser, "speaker") == sorted(before, reverse=True)
    browser.find_element("css selector", "th[data-sort=where]").click()
    shown = browser.execute_script(
        "return Array.from(document.querySelectorAll('#hits td.c-where'), td => td.title)")
    where = [(p, int(line), int(col)) for p, line, col in (w.rsplit(":", 2) for w in shown)]
    assert where == sorted(where) and len(where) == len(before)
    assert visible_column(browser, "where")[0] == Path(where[0][0]).name + f":{where[0][1]}:{where[0][2]}"


@needs_browser
def test_an_opened_row_shows_the_whole_turn(browser, tmp_path):
    open_page(browser, tmp_path, html_report(str(VANILLA), "--set", "heart-sutra-mantra"))
    rows = browser.find_elements("css selector", "#hits tbody tr.hit")
    rows[0].click()
    text = browser.find_element("css selector", "tr.detail .turn-text").get_attribute("textContent")
    # Turn 10 of the transcript: lines 45 to 48, read here without the tool.
    assert text == "\n".join(VANILLA.read_text(encoding="utf-8").splitlines()[44:48])
    marked = browser.execute_script(
        "return Array.from(document.querySelectorAll('tr.detail mark'), m => m.textContent)")
    assert marked == ["Gate, gate, pāragate, pārasaṃgate, bodhi svāhā", "gone, gone, gone beyond"]
    rows[0].click()
    assert browser.find_elements("css selector", "tr.detail") == []


@needs_browser
def test_a_hostile_transcript_runs_no_script_and_shows_as_text(browser, tmp_path):
    open_page(browser, tmp_path, html_report(str(HOSTILE)))
    for row in browser.find_elements("css selector", "#hits tbody tr.hit"):
        row.click()
    assert browser.execute_script("return window.__pwned") is None
    assert browser.execute_script("return document.querySelectorAll('img, iframe, b, i').length") == 0
    texts = browser.execute_script(
        "return Array.from(document.querySelectorAll('.turn-text'), t => t.textContent)")
    source = HOSTILE.read_text(encoding="utf-8").splitlines()
    assert "\n".join(source[8:11]) in texts
    assert any("<OOC>out of character</OOC>" in t and "█▓▒░ ┌──┐" in t and "\x1b" not in t
               for t in texts)
    assert console_problems(browser) == []
    from selenium.common.exceptions import NoAlertPresentException

    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text  # noqa: B018 - raises when no alert is open


@needs_browser
def test_the_concordance_pages_by_100_rows(browser, tmp_path):
    dump = tmp_path / "many.txt"
    turns = [f"<{'a' if i % 2 else 'b'}>\nturn {i}: gate gate paragate, animal welfare\n"
             for i in range(125)]
    dump.write_text("actors: a, b\nmodels: m1, m2\n\n" + "\n".join(turns), encoding="utf-8")
    hits = len(jsonl_matches(str(dump)))
    assert hits == 250
    open_page(browser, tmp_path, html_report(str(dump)))
    assert showing(browser) == "1\u2013100 of 250 hits"
    assert len(visible_column(browser, "set")) == 100
    browser.find_element("id", "next").click()
    browser.find_element("id", "next").click()
    assert showing(browser) == "201\u2013250 of 250 hits"
    assert len(visible_column(browser, "set")) == 50
    assert browser.find_element("id", "next").get_attribute("disabled") == "true"
    browser.execute_script("const s = document.getElementById('page-size'); s.value = '500';"
                           "s.dispatchEvent(new Event('change'));")
    assert len(visible_column(browser, "set")) == 250


def test_by_adds_its_breakdown_tables_and_per_file_counts_are_refused():
    page = html_report("--sample", "--by", "scenario", "--by", "relation")
    summary = json.loads(invoke("scan", "--sample", "-f", "json", "--by", "scenario",
                                "--by", "relation").stdout)
    for dimension in ("scenario", "relation"):
        assert f"<h2>By {dimension}</h2>" in page
        for row in summary["by"][dimension]:
            assert f"<tr><td>{row['value'] or '(unknown)'}</td><td>{row['hits']}</td>" in page
    refused = invoke("scan", "--sample", "-f", "html", "-c")
    assert refused.status == 2 and "-c/--count prints lines per file, not -f html" in refused.stderr
