"""One name per model: display names and dated ids become one canonical id everywhere."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from backrooms_scan.cli import main
from backrooms_scan.model_names import (
    KNOWN_MODELS,
    build_alias_table,
    canonical_model,
    name_key,
)

FIXTURES = Path(__file__).parent / "fixtures" / "model_names"
SONNET_45 = "claude-sonnet-4-5-20250929"
OPUS_3 = "claude-3-opus-20240229"


@pytest.mark.parametrize(
    ("name", "canonical"),
    [
        ("claude-3-opus-20240229", OPUS_3),
        ("Claude 3 Opus", OPUS_3),
        ("claude_3_opus", OPUS_3),
        ("CLAUDE  3  OPUS", OPUS_3),
        ("Claude 4.5 Sonnet", SONNET_45),
        ("Claude 4.5 Sonnet 20250929", SONNET_45),
        ("Claude Sonnet 4.5", SONNET_45),
        ("claude-sonnet-4-5", SONNET_45),
        ("claude-opus-4-0", "claude-opus-4-20250514"),
        ("Claude 3.5 Sonnet (new)", "claude-3-5-sonnet-20241022"),
        ("claude-3-5-sonnet-20240620", "claude-3-5-sonnet-20240620"),
        ("Claude 3.5 Sonnet", "claude-3-5-sonnet"),  # June or October: not guessed
        ("claude-3-opus-20250101", "claude-3-opus-20250101"),  # another date, another model
        ("Kimi K2", "kimi-k2"),
        ("GPT-4o", "gpt-4o"),
        ("Gemini 2.5 Pro", "gemini-2.5-pro"),
        ("gemini-2.5-pro", "gemini-2.5-pro"),
    ],
)
def test_canonical_names(name: str, canonical: str):
    assert canonical_model(name) == canonical


def test_every_canonical_id_and_alias_of_the_table_names_its_own_model():
    table = build_alias_table()
    for canonical, *aliases in KNOWN_MODELS:
        assert canonical_model(canonical) == canonical
        assert {table[name_key(alias)] for alias in aliases} <= {canonical}


def test_an_undated_id_two_models_share_is_not_given_to_either():
    table = build_alias_table((("m-1-20240101",), ("m-1-20250101",), ("n-2-20240101", "N Two")))
    assert table[name_key("m-1")] == "m-1"
    assert table[name_key("n 2")] == table[name_key("N Two")] == "n-2-20240101"


# --- through the pipeline ------------------------------------------------------------


def scan(*args: str) -> list[dict]:
    result = CliRunner().invoke(main, ["scan", str(FIXTURES), "--set", "heart-sutra-mantra",
                                       "--by", "model", "-f", "jsonl", *args],
                                catch_exceptions=False)
    return [json.loads(line) for line in result.stdout.splitlines()]


def spoken_turns_as_read() -> list[tuple[str, str]]:
    """Each fixture read by hand: (model in canonical name, text) of every spoken turn."""
    turns = []
    for line in (FIXTURES / "exports.jsonl").read_text().splitlines():
        record = json.loads(line)
        turns += [(canonical_model(record["model"]), m["content"]) for m in record["messages"]]
    page = (FIXTURES / "conversation_full.html").read_text()
    for model, text in re.findall(
            r'class="header">AI-\d \(([^)]*)\).*?class="content">([^<]*)', page, re.DOTALL):
        turns.append((canonical_model(model), text))
    transcript = (FIXTURES / "conversation_1710000000_scenario_model names.txt").read_text()
    models = re.search(r"models: (.*)", transcript)[1].split(", ")
    for actor, text in re.findall(r"^<(explorer|simulator)>\n(.*?)(?=\n\n|\n?$)", transcript,
                                  re.MULTILINE | re.DOTALL):
        turns.append((models[["explorer", "simulator"].index(actor)], text))
    return turns


def test_a_breakdown_by_model_has_one_row_per_model_with_its_turns_and_hits():
    (summary,) = [e["data"] for e in scan() if e["type"] == "summary"]
    rows = summary["by"]["model"]
    read = spoken_turns_as_read()
    gate = Counter()
    for model, text in read:
        gate[model] += len(re.findall(r"gate gate paragate", text))
    assert {r["value"]: r["turns"] for r in rows} == dict(Counter(m for m, _ in read))
    assert {r["value"]: r["patterns"].get("heart-sutra-mantra/gate-gate-paragate", 0)
            for r in rows} == dict(gate)
    assert len(rows) == 5 and gate[SONNET_45] == 3 and gate[OPUS_3] == 3


def test_records_and_filters_see_the_canonical_name():
    matches = [e["data"] for e in scan() if e["type"] == "match"]
    assert {m["model"] for m in matches} == {m for m, text in spoken_turns_as_read()
                                             if "gate" in text}
    for spelled in ("Claude 3 Opus", "claude-3-opus", OPUS_3):
        chosen = [e["data"] for e in scan("--model", spelled) if e["type"] == "match"]
        assert {m["model"] for m in chosen} == {OPUS_3}
        assert {Path(m["path"]).suffix for m in chosen} == {".txt", ".html"}


def test_a_model_glob_is_spelled_as_ids_are():
    chosen = [e["data"] for e in scan("--model", "Claude 3*") if e["type"] == "match"]
    assert {m["model"] for m in chosen} == {OPUS_3, "claude-3-5-sonnet-20240620",
                                            "claude-3-5-sonnet-20241022"}


def test_jobs_give_the_same_canonical_names():
    def without_time(events):
        return [e for e in events if e["type"] != "summary"] + [
            {k: v for k, v in e["data"].items() if k != "elapsed_seconds"}
            for e in events if e["type"] == "summary"]

    assert without_time(scan("--jobs", "2")) == without_time(scan("--jobs", "1"))
