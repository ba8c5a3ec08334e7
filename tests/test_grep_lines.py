"""`-f grep` prints the line of the hit: for turns that are not verbatim slices of the
source (JSON strings, HTML), the line of the turn's own text that holds the hit, located
at the turn's start, since the source position inside the turn is not known."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

from mock_environment import invoke

FIXTURES = Path(__file__).parent / "fixtures"
RUNNER_PAGE = FIXTURES / "multiagent_html" / "conversation_full_runner_output.html"


def grep_lines(path: str) -> list[tuple[int, int, str, str]]:
    done = invoke("scan", path, "-f", "grep", "-j", "1")
    assert done.status == 0, done.stderr
    found = []
    for line in done.stdout.splitlines():
        rest = line[len(path) + 1:]
        number, column, rule, text = rest.split(":", 3)
        found.append((int(number), int(column), rule, text))
    return found


def matches(path: str) -> list[dict]:
    done = invoke("scan", path, "-f", "jsonl", "-j", "1")
    return [event["data"] for event in map(json.loads, done.stdout.splitlines())
            if event["type"] == "match"]


def test_an_html_hit_prints_its_own_line_of_the_turn_not_the_turn_first_or_next_line():
    page = RUNNER_PAGE.read_text(encoding="utf-8").splitlines()
    printed = grep_lines(str(RUNNER_PAGE))
    hits = matches(str(RUNNER_PAGE))
    assert len(printed) == len(hits) >= 2
    for (number, column, rule, text), hit in zip(printed, hits, strict=True):
        assert (number, column, rule) == (hit["line"], hit["column"], f"{hit['set']}/{hit['pattern']}")
        # An independent reading: the page line holds the turn's <div class="content">;
        # its text lines are the pieces between <br>s.
        content = re.search(r'<div class="content">(.*?)</div>', page[number - 1]).group(1)
        pieces = [html.unescape(piece) for piece in content.split("<br>")]
        holding = [piece for piece in pieces if hit["match"].lower() in piece.lower()]
        assert text == holding[-1], (text, pieces)
    assert printed[0][3] == "gate gate paragate"  # not "we stand at the gate", the turn's first


def test_a_json_string_hit_prints_its_own_line_of_the_string(tmp_path):
    source = tmp_path / "chat.json"
    value = "the first line\nthe second: gate gate paragate\nthe third"
    source.write_text(json.dumps({"id": "c", "model": "claude-3-opus-20240229", "conversations": [
        {"from": "human", "value": "hello"}, {"from": "gpt", "value": value}]}, indent=1),
        encoding="utf-8")

    printed = grep_lines(str(source))

    assert printed, "a hit expected"
    for number, column, _rule, text in printed:
        assert (number, column) == (1, 1)  # where the conversation's object opens
        assert text == "the second: gate gate paragate"


MANTRA = "gate gate paragate parasamgate bodhi svaha "


def test_a_long_line_prints_a_window_around_each_hit_so_output_grows_with_hits_not_line_length(tmp_path):
    line = MANTRA * 2000  # 88,000 characters, 8,000 hits
    source = tmp_path / "line.txt"
    source.write_text(f"### Claude 1 ###\n{line}\n", encoding="utf-8")

    done = invoke("scan", str(source), "--set", "heart-sutra-mantra", "-f", "grep", "-j", "1",
                  "--max-columns", "100")

    assert done.status == 0, done.stderr
    printed = done.stdout.splitlines()
    hits = matches(str(source))
    assert len(printed) == len(hits) == 8000
    prefix = len(f"{source}:2:")
    for text, hit in zip(printed, hits, strict=True):
        shown = text.split(":", 4)[4]
        assert len(shown) <= 100 + 2 * len("[...]")
        assert hit["match"] in shown
        assert int(text[prefix:].split(":", 1)[0]) == hit["column"]
    assert printed[0].split(":", 4)[4].endswith("[...]")
    assert printed[-1].split(":", 4)[4].startswith("[...]")
    assert len(done.stdout) < len(hits) * (100 + 2 * len("[...]") + len(str(source)) + 60)


def test_a_line_up_to_max_columns_or_with_max_columns_0_is_printed_whole(tmp_path):
    source = tmp_path / "line.txt"
    source.write_text(f"### Claude 1 ###\n{MANTRA * 3}\n", encoding="utf-8")
    whole = (MANTRA * 3).rstrip(" ")

    for width in (str(len(MANTRA * 3)), "0"):
        done = invoke("scan", str(source), "--set", "heart-sutra-mantra", "-f", "grep", "-j", "1",
                      "--max-columns", width)
        assert done.status == 0, done.stderr
        assert {line.split(":", 4)[4] for line in done.stdout.splitlines()} == {whole}


def test_max_columns_is_refused_outside_grep():
    done = invoke("scan", "--sample", "-f", "json", "--max-columns", "80")
    assert done.status == 2
    assert "--max-columns" in done.stderr
