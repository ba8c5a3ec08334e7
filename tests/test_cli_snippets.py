"""Concordance: snippet sections in the table's order, keyword column aligned (KWIC),
--sort by the words before or after the hit, --max-snippets all."""

from __future__ import annotations

import json
import re
from pathlib import Path

from mock_environment import invoke

FIXTURES = Path(__file__).parent / "fixtures" / "cli"
OVERLAPS = str(FIXTURES / "overlapping_hits.txt")
CARE = str(FIXTURES / "overlap-care.yaml")


def section(*args: str, name: str = "care/welfare") -> list[str]:
    """The KWIC lines (hit in brackets) of one snippet section of the plain report."""
    lines = invoke("scan", OVERLAPS, "-p", CARE, "-C", "12", *args).stdout.splitlines()
    start = lines.index(name) + 1
    end = next((i for i in range(start, len(lines)) if not lines[i].startswith("  ")), len(lines))
    return [line for line in lines[start:end] if "[" in line]


def test_max_snippets_all_shows_every_hit_with_the_keyword_column_aligned():
    kwic = section("--max-snippets", "all")
    assert kwic == [
        "    …you. Animal [welfare] first, then…",
        "    …first, then [welfare] in general.",
        "    …ng here but [welfare], animal-wel…",
        "    …are, animal-[welfare] and a welfa…",
        "    …lfare and a [welfare] state.",
    ]
    assert len({line.index("[") for line in kwic}) == 1


def test_sort_right_orders_by_the_words_after_the_hit():
    kwic = section("--max-snippets", "all", "--sort", "right")
    afters = [re.findall(r"\w+", line.split("]")[1].casefold()) for line in kwic]
    assert afters == sorted(afters) and afters[0] == ["and", "a", "welfa"]


def test_sort_left_orders_by_the_words_before_the_hit_read_backwards():
    kwic = section("--max-snippets", "all", "--sort", "left")
    befores = [re.findall(r"\w+", line.split("[")[0].casefold())[::-1] for line in kwic]
    assert befores == sorted(befores) and befores[0][0] == "a"


def test_a_sort_picks_the_first_n_in_its_order_not_in_input_order():
    assert section("--max-snippets", "1", "--sort", "left") == [
        "    …lfare and a [welfare] state."]


def test_sections_follow_the_table():
    lines = invoke("scan", OVERLAPS, "-p", CARE).stdout.splitlines()
    shown = [line for line in lines if line in ("care/animal-welfare", "care/welfare")]
    assert shown == ["care/animal-welfare", "care/welfare"]


def test_max_snippets_takes_a_count_or_all():
    done = invoke("scan", OVERLAPS, "-p", CARE, "--max-snippets", "many")
    assert done.status == 2
    assert "'many' is not a count or 'all'" in done.stderr


def test_snippet_locations_of_many_hits_in_one_turn_are_those_of_the_jsonl_events(tmp_path):
    lines = [f"{'  ' * (n % 3)}line {n} gate gate paragate, bodhi svaha" for n in range(40)]
    path = tmp_path / "lines.txt"
    path.write_text("### Claude 1 ###\n" + "\n".join(lines) + "\n", encoding="utf-8")
    common = ("scan", str(path), "--set", "heart-sutra-mantra", "--max-snippets", "all")

    plain = invoke(*common, "-f", "plain").stdout
    events = [json.loads(line) for line in invoke(*common, "-f", "jsonl").stdout.splitlines()]

    shown = re.findall(rf"{re.escape(str(path))}:(\d+):(\d+)", plain)
    placed = [(str(e["data"]["line"]), str(e["data"]["column"])) for e in events
              if e["type"] == "match"]
    assert len(placed) == 80 and sorted(shown) == sorted(placed)
