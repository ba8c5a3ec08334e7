"""merge reads shard results field by field: a damaged or mismatched shard is one line, status 2."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest
from mock_environment import Outcome, invoke

from backrooms_scan.cli import main
from backrooms_scan.report import MERGE_FORMATS, OUTPUT_FORMATS
from backrooms_scan.shards import STATE_FIELDS
from backrooms_scan.status import ExitStatus

PREFIX = "backrooms-scan: "


def make_shards(folder: Path, *options_per_shard: list[str]) -> list[str]:
    paths = []
    for index, options in enumerate(options_per_shard, start=1):
        path = folder / f"shard{index}.json"
        done = invoke("scan", "--sample", "--jobs", "1", "--shard", f"{index}/2", "-f", "json",
                      "-o", str(path), *options)
        assert done.status in (0, 1), done.stderr
        paths.append(str(path))
    return paths


@pytest.fixture(scope="module")
def sample_shards(tmp_path_factory) -> tuple[dict, str]:
    """Shard 1/2 of the sample as data, and the path of shard 2/2."""
    first, second = make_shards(tmp_path_factory.mktemp("shards"), [], [])
    return json.loads(Path(first).read_text()), second


# Objects whose keys are data (roles, conversations, set names), not fields.
DATA_MAPS = ("turns", "selected_by_conversation", "relations")


def field_paths(value, where: str = ""):
    """(path, parent, key) for every field merge reads, first list item only."""
    if where.endswith(DATA_MAPS):
        return
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list) and value:
        items = [(0, value[0])]
    else:
        return
    for key, inner in items:
        path = f"{where}[{key}]" if isinstance(key, int) else f"{where}.{key}" if where else key
        yield path, value, key
        yield from field_paths(inner, path)


def wrong_type(value):
    if isinstance(value, dict):
        return []
    if isinstance(value, list):
        return {}
    if isinstance(value, bool):
        return "yes"
    if isinstance(value, int):
        return "7"
    return 7  # strings, and null where a string may be


def merge_fails_naming(document: dict, second: str, folder: Path, field: str) -> str:
    path = folder / "damaged.json"
    path.write_text(json.dumps(document))
    done = invoke("merge", str(path), second)
    assert done.status == 2, (field, done.stderr)
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.startswith(f"{PREFIX}{path}: "), done.stderr
    return done.stderr


def merged_parts(document: dict) -> dict:
    """The parts merge reads, with a state that has hit turns first so they are covered."""
    states = sorted(document["state"], key=lambda state: not state["hit_turns"])
    return {key: document[key] for key in ("shard", "patterns_used", "count_replays", "options")
            } | {"state": states}


def test_every_field_missing_or_of_the_wrong_type_is_named(sample_shards, tmp_path):
    document, second = sample_shards
    document = {**document, **merged_parts(document)}
    checked = 0
    for field, _, _ in list(field_paths(merged_parts(document))):
        for damage in ("delete", "retype"):
            damaged = copy.deepcopy(document)
            target = next((parent, key) for path, parent, key in field_paths(damaged)
                          if path == field)
            parent, key = target
            if damage == "delete" and isinstance(parent, dict):
                del parent[key]
                message = merge_fails_naming(damaged, second, tmp_path, field)
                assert f"field '{field}' is missing" in message
            elif damage == "retype":
                parent[key] = wrong_type(parent[key])
                message = merge_fails_naming(damaged, second, tmp_path, field)
                assert f"field '{field}" in message
            checked += 1
    assert checked > 60  # every field of the shard, its options, a file state and a hit turn


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda d: d["state"][0].update(unit=1), "field 'state[0].unit' (1) is not one of shard 1/2"),
        (lambda d: d["shard"].update(index=3), "field 'shard.index' must not be above 'shard.count'"),
        (lambda d: d["state"][0].update(unit=-2), "field 'state[0].unit' must be a whole number"),
        (lambda d: d["state"][0]["hit_turns"][0].update(digest="00"),
         "field 'state[0].hit_turns[0].digest' must be 32 hexadecimal digits"),
        (lambda d: d["state"][0]["hit_turns"][0]["hits"].append(["no-such-set", "x", 0, 1]),
         "names no-such-set/x, not in 'patterns_used'"),
        (lambda d: d["state"][0]["hit_turns"][0]["relations"].clear(),
         "missing from its 'relations'"),
        (lambda d: d["state"][0]["turns"].update(shouted=1),
         "field 'state[0].turns.shouted' must be one of spoken, system, context"),
    ],
    ids=["unit-of-another-shard", "index-above-count", "negative-unit", "short-digest",
         "unknown-pattern", "no-relation", "unknown-role"],
)
def test_values_that_cannot_be_merged_are_named(sample_shards, tmp_path, damage, message):
    document, second = sample_shards
    document = {**copy.deepcopy(document), **copy.deepcopy(merged_parts(document))}
    damage(document)
    assert message in merge_fails_naming(document, second, tmp_path, "")


@pytest.mark.parametrize("text", ["[" * 100_000, '{"shard": ' + "9" * 5000 + "}", "\xff"])
def test_unreadable_json_is_one_line(tmp_path, text):
    path = tmp_path / "bad.json"
    path.write_text(text, encoding="latin-1")
    done = invoke("merge", str(path))
    assert done.status == 2 and done.stderr.count("\n") == 1
    assert done.stderr.startswith(f"{PREFIX}{path}: cannot read shard result: ")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--role", "all"], "--role is all in {0}, spoken in {1}"),
        (["--exact"], "--exact is on in {0}, off in {1}"),
        (["--model", "claude*"], "--model is claude* in {0}, not given in {1}"),
        (["--no-fix-text"], "--no-fix-text is on in {0}, off in {1}"),
    ],
)
def test_shards_made_with_different_options_are_refused_naming_the_option(
    tmp_path, options, message
):
    first, second = make_shards(tmp_path, options, [])
    done = invoke("merge", first, second)
    assert (done.status, done.stderr) == (
        2, (f"{PREFIX}shard results were made with different options: "
           f"{message.format(first, second)}\n"))


def test_the_state_checked_is_the_state_a_scan_writes(sample_shards):
    document, _ = sample_shards
    assert all(set(state) == set(STATE_FIELDS) for state in document["state"])


# --- the round trip, for every format scan offers ----------------------------------------

BREAKDOWNS = ["--by", "model", "--by", "file", "--by", "conversation"]


def without_timing(text: str) -> str:
    return re.sub(r"\b\d+\.\d+ s\b", "N s", text)


def summary_of(text: str) -> dict:
    summary = json.loads(text)
    del summary["elapsed_seconds"], summary["partial"]
    return summary


def sharded_scan(folder: Path, *options: str) -> tuple[list[str], list[Outcome]]:
    paths = [str(folder / f"s{index}") for index in (1, 2)]
    done = [invoke("scan", "--sample", "--jobs", "1", "--shard", f"{index}/2", "-o", path,
                   *options) for index, path in enumerate(paths, start=1)]
    return paths, done


@pytest.mark.parametrize("options", [["-f", "json"], []], ids=["json", "no-format"])
def test_shards_merge_into_exactly_the_full_scan(tmp_path, options):
    paths, done = sharded_scan(tmp_path, *options)
    assert [outcome.status for outcome in done] == [0, 0], [o.stderr for o in done]
    assert all(json.loads(Path(path).read_text())["state"] for path in paths)
    merged = invoke("merge", *paths, *BREAKDOWNS)
    full = invoke("scan", "--sample", "-f", "json", *BREAKDOWNS)
    assert merged.status == full.status == 0, merged.stderr
    assert summary_of(merged.stdout) == summary_of(full.stdout)
    assert summary_of(full.stdout)["hits"] > 0


@pytest.mark.parametrize("output_format", MERGE_FORMATS)
def test_merge_prints_each_summary_format_as_the_full_scan_does(tmp_path, output_format):
    paths, _ = sharded_scan(tmp_path)
    merged = invoke("merge", "-f", output_format, *paths, *BREAKDOWNS)
    full = invoke("scan", "--sample", "-f", output_format, "--no-snippets", *BREAKDOWNS)
    if output_format == "json":
        assert summary_of(merged.stdout) == summary_of(full.stdout)
    else:
        assert without_timing(merged.stdout) == without_timing(full.stdout)


@pytest.mark.parametrize("options", [["-f", name] for name in OUTPUT_FORMATS if name != "json"]
                         + [["--json"]], ids=lambda options: options[-1])
def test_a_format_that_cannot_carry_a_shard_is_refused_naming_what_to_do(tmp_path, options):
    paths, done = sharded_scan(tmp_path, *options)
    asked = options[-1] if options == ["--json"] else f"-f {options[-1]}"
    name = options[-1].removeprefix("--").replace("json", "jsonl")
    instead = (f"give -f {name} to merge instead" if name in MERGE_FORMATS
               else "merge prints json, plain, table")
    for outcome in done:
        assert (outcome.status, outcome.stdout) == (ExitStatus.ERROR, "")
        assert outcome.stderr == (f"{PREFIX}--shard writes what merge reads, as -f json (its "
                                  f"default); {asked} cannot carry it: {instead}\n")
    assert not any(Path(path).exists() for path in paths)


def test_the_formats_the_round_trip_covers_are_those_scan_offers():
    (option,) = [param for param in main.commands["scan"].params if param.name == "output_format"]
    assert list(option.type.choices) == list(OUTPUT_FORMATS)
