"""Hostile inputs, each built at a size CI can afford in the shape of the full campaign
(benchmarks/hostile.py), run as a user would in a subprocess with an address-space cap
and a timeout: the right exit status, no traceback, every file and member accounted for,
in bounded time and memory."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def load_campaign():
    spec = importlib.util.spec_from_file_location("bench_hostile", ROOT / "benchmarks" / "hostile.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


hostile = load_campaign()
CASES = [case for case in hostile.CASES if case.in_suite]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_hostile_input_ends_as_it_should(case, tmp_path):
    args = hostile.build(case, tmp_path, False, ROOT)
    done = hostile.run_case(args, ROOT, timeout=case.small_seconds * 3, memory_gb=4, cwd=tmp_path)
    if (tmp_path / "tree").exists():
        hostile.remove_nested(tmp_path / "tree")
    assert done.exit != "TIMEOUT", done.stderr[-2000:]
    assert not done.traceback, done.stderr[-4000:]
    assert done.exit in case.exits, done.stderr[-2000:]
    told = done.stderr + done.stdout  # `patterns check` reports on stdout
    for fragment in case.told:
        assert fragment in told, told[-2000:]
    if case.counts is not None:
        summary = json.loads(done.stdout)
        assert (summary["files_scanned"], summary["files_skipped"]) == case.counts, summary
    assert done.seconds < case.small_seconds
    assert done.peak_rss_mb < case.small_rss_mb
