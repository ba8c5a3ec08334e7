"""The scan with the byte-level prefilter gives exactly what the reference path gives: every
fixture, generated dumps and random format-A files, file result by file result."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backrooms_scan import scan as scan_module
from backrooms_scan.matcher import Matcher
from backrooms_scan.patternsets import Pattern, PatternSet, shipped_sets
from backrooms_scan.scan import ScanOptions, run_scan

FIXTURES = Path(__file__).resolve().parent / "fixtures"
ALL_FIXTURES = sorted(str(path) for path in FIXTURES.rglob("*") if path.is_file())
BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def results(paths, sets, **options) -> list:
    return list(run_scan(paths, sets, ScanOptions(**options)))


def assert_same_as_reference(paths, sets=None, **options):
    sets = shipped_sets() if sets is None else sets
    fast = results(paths, sets, **options)
    reference = results(paths, sets, prefilter=False, **options)
    assert fast == reference
    return fast


@pytest.mark.parametrize("options", [{}, {"fix_text": False}, {"word": True}, {"exact": True}])
def test_every_fixture_scans_as_on_the_reference_path(options):
    found = assert_same_as_reference(ALL_FIXTURES, **options)
    assert any(result.hit_turns for _, result in found) or options.get("exact")


def test_every_fixture_with_patterns_of_every_kind(tmp_path):
    sets = [PatternSet("kinds", None, (), (
        Pattern("plain", ("the", "gate gate")),
        Pattern("word", ("explorer", "simulator"), word=True),
        Pattern("exact", ("The", "you"), exact=True),
        Pattern("recite", (), all_of=("gate", "bodhi"), within=200),
        Pattern("cjk", ("揭諦", "아제")),
    ), None)]
    found = assert_same_as_reference(ALL_FIXTURES, sets)
    assert {hit.pattern for _, r in found for th in r.hit_turns for hit in th.hits} >= {
        "plain", "word", "exact"}


def load_generator():
    spec = importlib.util.spec_from_file_location("bench_generate_dump",
                                                  BENCHMARKS / "generate_dump.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("hit_scale", [1.0, 0.05])
def test_a_generated_dump_scans_as_on_the_reference_path(tmp_path, hit_scale):
    load_generator().generate(tmp_path / "dump", size_mb=0.4, seed=3, hit_scale=hit_scale,
                              manifest_out=tmp_path / "manifest.json")
    assert_same_as_reference([str(tmp_path / "dump")])


def test_a_file_whose_bytes_hold_no_key_is_counted_but_not_matched(tmp_path, monkeypatch):
    quiet = tmp_path / "conversation_1712345678_scenario_quiet.txt"
    quiet.write_text("actors: a, b\nmodels: m, m\n\n<a>\nhello there\n\n<b>\nhi\n",
                     encoding="utf-8")
    calls = []
    original = Matcher.match_turns
    monkeypatch.setattr(Matcher, "match_turns",
                        lambda self, turns: calls.append(len(turns)) or original(self, turns))
    (_, result), = results([str(quiet)], shipped_sets())
    assert (result.conversations, dict(result.turns), calls) == (1, {"spoken": 2}, [])


@pytest.mark.parametrize("content", [
    "<a>\non the senti\x1b[0mence of all\n",  # removing the terminal escape joins the word
    "<a>\non the sentiÃ©nce of all\n",  # mojibake, repaired to "sentiénce"
])
@pytest.mark.parametrize("fix_text", [True, False])
def test_files_the_bytes_cannot_vouch_for_are_matched(tmp_path, content, fix_text):
    path = tmp_path / "conversation_1712345678_scenario_x.txt"
    path.write_bytes(("actors: a, b\n\n" + content + "\n<b>\nok\n").encode("utf-8"))
    sets = [PatternSet("one", None, (), (Pattern("sentience", ("sentience",)),), None)]
    found = assert_same_as_reference([str(path)], sets, fix_text=fix_text)
    if fix_text or "\x1b" in content:
        assert [hit.pattern for _, r in found for th in r.hit_turns for hit in th.hits] == [
            "sentience"]


def test_utf16_and_json_escapes_scan_as_on_the_reference_path(tmp_path):
    messages = [{"role": "user", "content": "p\u0101ragate gate gate parasamgate"},
                {"role": "assistant", "content": "animal welfare, I vow to liberate all beings"}]
    (tmp_path / "escaped.jsonl").write_text(json.dumps({"messages": messages}) + "\n")
    (tmp_path / "wide.json").write_bytes(json.dumps([{"messages": messages}]).encode("utf-16"))
    found = assert_same_as_reference([str(tmp_path)])
    assert sum(len(r.hit_turns) for _, r in found) >= 4


def test_large_files_are_streamed_and_still_matched(tmp_path, monkeypatch):
    monkeypatch.setattr(scan_module, "SCREEN_BYTES_LIMIT", 100)
    path = tmp_path / "exports.jsonl"
    path.write_text(json.dumps({"messages": [{"role": "user", "content": "animal welfare"}]})
                    + "\n", encoding="utf-8")
    found = assert_same_as_reference([str(path)])
    assert [len(r.hit_turns) for _, r in found] == [1]


# Turn text as format A holds it: tag-like lines, accents, mojibake, CJK, terminal escapes.
TEXT_PIECES = ["gate ", "Gāte ", "GATE", "pāra", "gate\u0301", "ｇａｔｅ", "𝐠𝐚𝐭𝐞", "para", "sam",
               "animal ", "welfare", "welfÃ¤re", "wel\u00adfare", "ﬁ", "ß", "ẞ", "™", "揭諦",
               "아제", "\n", "\n<a>\n", "\n<b>\n", "<OOC>", " — ", "’", "\x1b[1m", "\x00", "\r\n"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(st.sampled_from(TEXT_PIECES), max_size=12).map("".join),
                min_size=1, max_size=5),
       st.booleans())
def test_random_format_a_files_scan_as_on_the_reference_path(tmp_path_factory, turns, fix_text):
    folder = tmp_path_factory.mktemp("random")
    body = "".join(f"\n<{'ab'[i % 2]}>\n{text}\n" for i, text in enumerate(turns))
    path = folder / "conversation_1712345678_scenario_random.txt"
    path.write_bytes(("actors: a, b\nmodels: m, n\n" + body).encode("utf-8", "surrogatepass"))
    assert_same_as_reference([str(path)], fix_text=fix_text)
