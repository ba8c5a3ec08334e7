"""Parquet input: one conversation per row, read by row group, by the JSON reader's rules.

The tests write the same rows twice, as Parquet (two rows to a row group) and as JSON
Lines, and the two scans must agree on every count and every hit's attribution.
"""

from __future__ import annotations

import datetime
import json
import os
import sys

import pytest
from mock_environment import invoke

if os.environ.get("CI"):
    import pyarrow  # noqa: F401 - CI installs the parquet extra and must run these tests
pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

STARTED = datetime.datetime(2024, 5, 1, 12, 30)
SHAREGPT = [
    {"id": "a", "model": "claude-3-opus-20240229", "conversations": [
        {"from": "system", "value": "Two minds meet. Say the vow if you like."},
        {"from": "human", "value": "What do you vow?"},
        {"from": "gpt", "value": "I vow to liberate all beings, without number."}]},
    {"id": "b", "model": "claude-3-opus-20240229", "conversations": [
        {"from": "human", "value": "Chant: gate gate paragate"},
        {"from": "gpt", "value": "Gate, gate, pāragate, pārasaṃgate, bodhi svāhā!"}]},
    {"id": "c", "model": "claude-3-sonnet-20240229", "conversations": [
        {"from": "human", "value": "And the animals?"},
        {"from": "gpt", "value": "Animal welfare. Factory farming troubles me."}]},
]
OPENAI = [
    {"model": "claude-3-opus-20240229", "created": STARTED, "messages": [
        {"role": "system", "content": "You are talking to another AI."},
        {"role": "user", "content": "What do you care about?"},
        {"role": "assistant", "content": "Animal welfare, mostly; sentient beings deserve care."}]},
    {"model": "claude-3-opus-20240229", "created": STARTED, "messages": [
        {"role": "user", "content": "gate gate paragate"},
        {"role": "assistant", "content": "gate gate paragate parasamgate bodhi svaha"},
        {"role": "user", "content": "again: gate gate paragate"}]},
    {"model": "gpt-4o", "created": STARTED, "messages": [
        {"role": "user", "content": "nothing here"}]},
]


def write_both(tmp_path, name: str, rows: list[dict]):
    parquet, jsonl = tmp_path / f"{name}.parquet", tmp_path / f"{name}.jsonl"
    pq.write_table(pa.Table.from_pylist(rows), parquet, row_group_size=2)
    as_json = [{k: v.isoformat() if isinstance(v, datetime.datetime) else v
                for k, v in row.items()} for row in rows]
    jsonl.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in as_json),
                     encoding="utf-8")
    assert pq.ParquetFile(parquet).num_row_groups == 2
    return parquet, jsonl


def summary(path) -> dict:
    outcome = invoke("scan", str(path), "-f", "json", "--jobs", "1", "--by", "model",
                     "--by", "speaker", "--by", "relation", "--by", "month")
    document = json.loads(outcome.stdout)
    for key in ("elapsed_seconds", "formats", "skipped", "by_file", "notices"):
        document.pop(key, None)
    return document


def hits(path) -> list[dict]:
    out = invoke("scan", str(path), "-f", "jsonl", "--jobs", "1", "--role", "all").stdout
    found = [e["data"] for e in map(json.loads, out.splitlines()) if e["type"] == "match"]
    return [{k: v for k, v in hit.items() if k not in ("path", "conversation", "column",
                                                        "before", "after")} for hit in found]


@pytest.mark.parametrize(("name", "rows"), [("sharegpt", SHAREGPT), ("openai", OPENAI)])
def test_parquet_gives_the_counts_of_the_equivalent_jsonl(tmp_path, name, rows):
    parquet, jsonl = write_both(tmp_path, name, rows)
    from_parquet, from_jsonl = summary(parquet), summary(jsonl)
    assert from_parquet == from_jsonl
    assert from_parquet["conversations"] == len(rows) and from_parquet["hits"] > 0


@pytest.mark.parametrize(("name", "rows"), [("sharegpt", SHAREGPT), ("openai", OPENAI)])
def test_parquet_hits_carry_the_attribution_of_the_equivalent_jsonl(tmp_path, name, rows):
    parquet, jsonl = write_both(tmp_path, name, rows)
    from_parquet = hits(parquet)
    assert from_parquet == hits(jsonl)
    # Brute force: every spoken message holding a phrase is a hit of its speaker.
    said = {(i + 1, m.get("from") or m.get("role")) for i, row in enumerate(rows)
            for m in row.get("conversations") or row.get("messages")
            if "gate gate" in (m.get("value") or m.get("content")).lower().replace(",", "")}
    assert {(h["line"], h["speaker"]) for h in from_parquet if h["set"] == "heart-sutra-mantra"
            and h["role"] == "spoken"} == said


def test_a_hit_in_parquet_is_placed_at_its_row(tmp_path):
    parquet, _ = write_both(tmp_path, "sharegpt", SHAREGPT)
    out = invoke("scan", str(parquet), "-f", "grep", "--set", "animal-welfare").stdout
    assert out.splitlines()[0].startswith(f"{parquet}:3:1:animal-welfare/")


def test_without_pyarrow_a_parquet_file_is_skipped_naming_the_extra(tmp_path, monkeypatch):
    parquet, _ = write_both(tmp_path, "sharegpt", SHAREGPT)
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    outcome = invoke("scan", str(parquet), "-f", "json", "--jobs", "1", "-v")
    assert json.loads(outcome.stdout)["skipped"] == [{
        "path": str(parquet),
        "reason": "Parquet needs pyarrow: pip install 'backrooms-scan[parquet]'"}]


def test_parquet_without_conversations_or_broken_is_skipped_with_a_reason(tmp_path):
    table = tmp_path / "table.parquet"
    pq.write_table(pa.Table.from_pylist([{"a": 1, "b": "x"}]), table)
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"PAR1" + b"\x00\x01" * 50)
    outcome = invoke("scan", str(tmp_path), "-f", "json", "--jobs", "1", "-v")
    reasons = {s["path"]: s["reason"] for s in json.loads(outcome.stdout)["skipped"]}
    assert reasons[str(table)] == "not a transcript (no row holds a conversation)"
    assert reasons[str(broken)].startswith("not a readable Parquet file: ")
