"""The scan pipeline: files in parts, failures part-way, work in worker processes."""

from __future__ import annotations

import gzip
import json
import random

from click.testing import CliRunner

from backrooms_scan import scan as scan_module
from backrooms_scan import walk
from backrooms_scan.cli import main
from backrooms_scan.patternsets import shipped_sets

LINE = ('{"messages": [{"role": "user", "content": "chant"}, {"role": "assistant", '
        '"content": "gate gate paragate parasamgate bodhi svaha, conversation %d"}]}\n')


def jsonl_file(tmp_path, conversations=50):
    path = tmp_path / "exports.jsonl"
    path.write_text("".join(LINE % n for n in range(conversations)), encoding="utf-8")
    return path


def found(path) -> walk.Found:
    """The path as the walk finds it when it is named."""
    (unit,) = walk.iter_files([str(path)])
    return unit


def scan_events(*args):
    result = CliRunner().invoke(main, ["scan", *args, "--set", "heart-sutra-mantra",
                                       "-f", "jsonl"], catch_exceptions=False)
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_a_file_read_in_parts_reports_exactly_as_one_read_whole(tmp_path, monkeypatch):
    path = jsonl_file(tmp_path)
    whole = scan_events(str(path))
    monkeypatch.setattr(scan_module, "PART_TEXT_LIMIT", 100)
    parts = scan_events(str(path))
    for events in (whole, parts):
        events[-1]["data"].pop("elapsed_seconds")
    assert parts == whole
    assert [e["type"] for e in parts].count("begin") == 1
    end = next(e["data"] for e in parts if e["type"] == "end")
    assert (end["conversations"], end["turns"]) == (50, {"spoken": 100})


def test_a_file_of_many_conversations_in_parts_keeps_every_conversation_row(tmp_path,
                                                                            monkeypatch):
    path = jsonl_file(tmp_path, conversations=7)
    whole = scan_events(str(path), "--by", "conversation")
    monkeypatch.setattr(scan_module, "PART_CONVERSATIONS", 2)
    parts = scan_events(str(path), "--by", "conversation")
    scanner = scan_module.Scanner(shipped_sets(), scan_module.ScanOptions())
    assert len(list(scanner.iter_unit(found(path)))) == 3  # conversations 1-3, 4-6, 7
    for events in (whole, parts):
        events[-1]["data"].pop("elapsed_seconds")
    assert parts == whole
    rows = whole[-1]["data"]["by"]["conversation"]
    assert sorted((r["value"], r["turns"]) for r in rows) == sorted(
        (f"{path}#{n}", 2) for n in range(1, 8))


def test_parts_are_passed_on_before_the_file_ends(tmp_path, monkeypatch):
    monkeypatch.setattr(scan_module, "PART_TEXT_LIMIT", 100)
    scanner = scan_module.Scanner(shipped_sets(), scan_module.ScanOptions())
    parts = list(scanner.iter_unit(found(jsonl_file(tmp_path))))
    assert len(parts) > 1
    assert [p.final for p in parts] == [False] * (len(parts) - 1) + [True]
    assert sum(p.conversations for p in parts) == 50


def test_a_stream_that_breaks_after_some_conversations_keeps_them_with_a_notice(tmp_path):
    noise = random.Random(1)
    lines = (LINE.replace("conversation %d", "%s") % noise.randbytes(300).hex() for _ in range(2000))
    data = gzip.compress("".join(lines).encode())
    path = tmp_path / "exports.jsonl.gz"
    path.write_bytes(data[: len(data) // 2])
    result = CliRunner().invoke(main, ["scan", str(path), "--set", "heart-sutra-mantra",
                                       "-f", "json"], catch_exceptions=False)
    summary = json.loads(result.stdout)
    assert (summary["files_scanned"], summary["files_skipped"]) == (1, 0)
    assert 0 < summary["conversations"] < 2000
    assert "reading stopped early: broken gzip stream" in result.stderr


def test_workers_are_given_small_files_but_not_large_ones_stdin_or_a_scan_without_workers(
        tmp_path, monkeypatch):
    small, large = tmp_path / "a.jsonl", jsonl_file(tmp_path)
    small.write_text(LINE % 1, encoding="utf-8")
    monkeypatch.setattr(scan_module, "LARGE_UNIT_BYTES", 1000)
    pool = object()
    assert scan_module.worker_size(pool, found(small)) == small.stat().st_size
    assert scan_module.worker_size(pool, found(large)) is None
    assert scan_module.worker_size(pool, found("-")) is None
    assert scan_module.worker_size(None, found(small)) is None


def test_a_file_gone_between_the_walk_and_its_reading_is_skipped_unless_it_was_named(tmp_path):
    path = jsonl_file(tmp_path)
    options = scan_module.ScanOptions()
    for named, outcome in ((str(tmp_path), ("unreadable: no such file or directory", None)),
                           (str(path), (None, "no such file or directory"))):
        path.touch()
        units = scan_module.scan_units([named])
        path.unlink()
        results = [result for _, result in
                   scan_module.run_scan([named], shipped_sets(), options, units=units)]
        assert [(r.path, r.skipped, r.error) for r in results] == [(str(path), *outcome)]
