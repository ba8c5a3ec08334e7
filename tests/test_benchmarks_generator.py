"""The benchmark dump generator: reproducible, sized, mixed, and its manifest tells the truth.

The manifest is the ground truth end-to-end tests compare backrooms-scan
against, so here every manifest figure is re-derived from the files on disk by
a small parser written independently of the generator.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from collections import Counter
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
MIB = 1024 * 1024


def load_script(name: str):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


gen = load_script("generate_dump")
runner = load_script("run")

PHRASES = {
    "vow": "i vow to liberate all beings, without number",
    "mantra_diacritics": "gate gate pāragate pārasaṃgate bodhi svāhā",
    "mantra_ascii": "gate gate paragate parasamgate bodhi svaha",
    "animal_welfare": "animal welfare",
    "factory_farming": "factory farming",
}


@pytest.fixture(scope="module")
def dump(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dump") / "out"
    gen.generate(out, size_mb=1, seed=7, patterns_out=out.parent / "patterns.txt")
    return out


@pytest.fixture(scope="module")
def manifest(dump) -> dict:
    return json.loads((dump / "manifest.json").read_text("utf-8"))


def dump_files(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != "manifest.json"
    }


def phrase_counts(text: str) -> Counter:
    lowered = text.lower()
    return Counter({key: lowered.count(p) for key, p in PHRASES.items() if p in lowered})


# -- an independent reader: (role, speaker, text) for every segment of a file


def backrooms_segments(text: str) -> list[tuple[str, str | None, str]]:
    lines = text.replace("\r\n", "\n").split("\n")
    actors = [a.strip() for a in lines[0].removeprefix("actors:").split(",")]
    turn_lines = {f"<{actor}>": actor for actor in actors}
    segments: list[list] = []
    for line in lines[1:]:
        prompt = re.fullmatch(r"<(.+)#(SYSTEM|CONTEXT)>", line)
        if prompt:
            segments.append([prompt.group(2).lower(), None, []])
        elif line in turn_lines:
            segments.append(["spoken", turn_lines[line], []])
        elif segments:
            segments[-1][2].append(line)
    return [(role, speaker, "\n".join(body)) for role, speaker, body in segments]


def forklog_segments(text: str) -> list[tuple[str, str | None, str]]:
    parts = re.split(r"^### (.+ \d+) ###$", text, flags=re.MULTILINE)
    return [("spoken", speaker, body) for speaker, body in zip(parts[1::2], parts[2::2])]


def message_text(content) -> str:
    if isinstance(content, str):
        return content
    return "".join(part["text"] for part in content)


def openai_segments(text: str) -> list[tuple[str, str | None, str]]:
    segments = []
    for line in text.splitlines():
        for message in json.loads(line)["messages"]:
            role = "system" if message["role"] == "system" else "spoken"
            speaker = None if role == "system" else message["role"]
            segments.append((role, speaker, message_text(message["content"])))
    return segments


def sharegpt_segments(text: str) -> list[tuple[str, str | None, str]]:
    segments = []
    for item in json.loads(text):
        for message in item["conversations"]:
            role = "system" if message["from"] == "system" else "spoken"
            segments.append((role, None if role == "system" else message["from"], message["value"]))
    return segments


def segments_of(path: str, text: str) -> list[tuple[str, str | None, str]]:
    if path.startswith("backrooms/"):
        return backrooms_segments(text)
    if path.endswith(".jsonl"):
        return openai_segments(text)
    if path.startswith("exports/sharegpt_"):
        return sharegpt_segments(text)
    if path.startswith("forks/") and path.endswith(".txt"):
        return forklog_segments(text)
    return [("metadata", None, text)]


def read_back(dump: Path) -> dict[str, dict]:
    """Per file: plants per role, turns per role and spoken turns per speaker, from disk."""
    found = {}
    for path, data in dump_files(dump).items():
        plants: dict[str, Counter] = {}
        turns: Counter = Counter()
        speakers: Counter = Counter()
        for role, speaker, text in segments_of(path, data.decode("utf-8")):
            counts = phrase_counts(text)
            if counts:
                plants.setdefault(role, Counter()).update(counts)
            if role != "metadata":
                turns[role] += 1
            if speaker:
                speakers[speaker] += 1
        found[path] = {
            "plants": plants,
            "turns": turns,
            "speakers": speakers,
            "conversations": conversation_count(path, data.decode("utf-8")),
        }
    return found


def conversation_count(path: str, text: str) -> int:
    if path.endswith(".jsonl"):
        return len(text.splitlines())
    if path.startswith("exports/sharegpt_"):
        return len(json.loads(text))
    return 0 if path.endswith(".json") else 1


# -- reproducibility and size


def test_same_seed_writes_byte_identical_files(dump, tmp_path):
    again = tmp_path / "again"
    gen.generate(again, size_mb=1, seed=7)
    assert dump_files(again) == dump_files(dump)
    assert (again / "manifest.json").read_bytes() == (dump / "manifest.json").read_bytes()


def test_another_seed_writes_different_files(dump, tmp_path):
    other = tmp_path / "other"
    gen.generate(other, size_mb=1, seed=8)
    assert dump_files(other) != dump_files(dump)


def test_total_size_is_within_a_fifth_of_the_request(dump, manifest):
    written = sum(len(data) for data in dump_files(dump).values())
    assert 0.8 * MIB <= written <= 1.2 * MIB
    assert manifest["total_bytes"] == written


def test_manifest_records_the_size_of_every_file_on_disk(dump, manifest):
    on_disk = {path: len(data) for path, data in dump_files(dump).items()}
    assert {path: entry["bytes"] for path, entry in manifest["files"].items()} == on_disk


def test_refuses_to_write_into_a_directory_that_is_not_empty(tmp_path):
    (tmp_path / "old.txt").write_text("left over")
    with pytest.raises(FileExistsError):
        gen.generate(tmp_path, size_mb=0.1, seed=1)


# -- the mix of formats


def test_every_format_is_present(manifest):
    entries = manifest["files"].values()
    assert {e["format"] for e in entries} == {"backrooms", "forklog", "chatjson", "metadata"}
    assert {e.get("style") for e in entries if e["format"] == "chatjson"} == {"openai", "sharegpt"}


def test_backrooms_files_are_named_and_headed_like_the_original_dump(dump):
    files = sorted((dump / "backrooms").iterdir())
    assert files
    for path in files:
        assert re.fullmatch(r"conversation_\d{10}_scenario_[\w -]+\.txt", path.name)
        head = path.read_text("utf-8").replace("\r\n", "\n").split("\n")
        assert head[0].startswith("actors: ")
        assert head[1].startswith("models: ")
        assert head[2].startswith("temp: ")
        assert re.fullmatch(r"<.+-.+#SYSTEM>", head[4])


def test_fork_logs_open_with_a_numbered_speaker_heading(dump):
    logs = sorted((dump / "forks").glob("*.txt"))
    assert logs
    for path in logs:
        assert re.search(r"^### .+ 1 ###$", path.read_text("utf-8"), re.MULTILINE)
        assert re.fullmatch(r".+_.+_.+_\d{8}_\d{6}\.txt", path.name)


def test_metadata_files_are_json_without_conversations(dump, manifest):
    metadata = [p for p, e in manifest["files"].items() if e["format"] == "metadata"]
    assert metadata
    for path in metadata:
        document = json.loads((dump / path).read_text("utf-8"))
        assert "messages" not in document and "conversations" not in document


def test_text_carries_the_non_ascii_characters_of_real_dumps(dump):
    text = b"".join(dump_files(dump).values()).decode("utf-8")
    for character in ("—", "’", "ā"):
        assert character in text


def test_spoken_turns_are_three_hundred_to_a_few_thousand_characters(dump):
    lengths = [
        len(text.strip())
        for path in (dump / "backrooms").iterdir()
        for role, _, text in backrooms_segments(path.read_text("utf-8"))
        if role == "spoken"
    ]
    assert min(lengths) >= 300
    assert max(lengths) <= 5000
    assert 500 <= sorted(lengths)[len(lengths) // 2] <= 2000


def test_backrooms_files_are_four_to_a_hundred_kilobytes(manifest):
    sizes = sorted(e["bytes"] for e in manifest["files"].values() if e["format"] == "backrooms")
    assert sizes[len(sizes) // 2] >= 4_000
    assert sizes[-1] <= 110_000


# -- the manifest is the truth


def test_manifest_plant_counts_match_a_recount_of_each_file(dump, manifest):
    for path, data in dump_files(dump).items():
        planted = Counter()
        for counts in manifest["files"][path].get("plants", {}).values():
            planted.update(counts)
        assert planted == phrase_counts(data.decode("utf-8")), path


def test_manifest_plants_per_role_match_a_parse_of_each_file(dump, manifest):
    for path, found in read_back(dump).items():
        recorded = manifest["files"][path].get("plants", {})
        assert {role: Counter(c) for role, c in recorded.items()} == found["plants"], path


def test_manifest_turn_and_conversation_counts_match_a_parse_of_each_file(dump, manifest):
    for path, found in read_back(dump).items():
        entry = manifest["files"][path]
        assert Counter({r: n for r, n in entry["turns"].items() if n}) == found["turns"], path
        assert Counter(entry["speakers"]) == found["speakers"], path
        assert entry["conversation_count"] == found["conversations"], path


def test_manifest_totals_are_the_sums_over_its_files(manifest):
    totals = {role: Counter() for role in ("spoken", "system", "context", "metadata")}
    turns = Counter()
    for entry in manifest["files"].values():
        for role, counts in entry.get("plants", {}).items():
            totals[role].update(counts)
        turns.update(entry["turns"])
    assert {role: +Counter(c) for role, c in manifest["totals"].items()} == totals
    assert Counter(manifest["turns"]) == turns


def test_every_phrase_is_planted_in_spoken_turns(manifest):
    assert all(n > 0 for n in manifest["totals"]["spoken"].values())
    assert set(manifest["totals"]["spoken"]) == set(PHRASES)


def test_hit_scale_thins_spoken_plants_and_keeps_prompt_plants(tmp_path, manifest):
    sparse = gen.generate(tmp_path / "sparse", size_mb=1, seed=7, hit_scale=0.1)
    dense_spoken = sum(manifest["totals"]["spoken"].values())
    assert sum(sparse["totals"]["spoken"].values()) < dense_spoken / 3
    assert sparse["spoken_rates"] == {k: r * 0.1 for k, r in manifest["spoken_rates"].items()}
    assert sum(sparse["totals"]["system"].values()) > 0
    for path, found in read_back(tmp_path / "sparse").items():
        recorded = sparse["files"][path].get("plants", {})
        assert {role: Counter(c) for role, c in recorded.items()} == found["plants"], path


def test_prompt_blocks_and_metadata_carry_plants_that_are_not_spoken(manifest):
    for role in ("system", "context", "metadata"):
        assert sum(manifest["totals"][role].values()) > 0, role


def test_context_block_plants_are_counted_apart_from_spoken_ones(dump, manifest):
    path, entry = next(
        (p, e) for p, e in manifest["files"].items()
        if e["format"] == "backrooms" and "context" in e.get("plants", {})
    )
    context_text = "".join(
        text for role, _, text in backrooms_segments((dump / path).read_text("utf-8"))
        if role == "context"
    )
    assert Counter(entry["plants"]["context"]) == phrase_counts(context_text)


def test_manifest_names_the_planted_phrases(manifest):
    assert manifest["count_as"] == PHRASES
    assert manifest["phrases"]["mantra_diacritics"] == "Gate gate pāragate pārasaṃgate bodhi svāhā"


# -- ripgrep patterns and the huge JSON file


def test_patterns_file_lists_the_planted_phrases_in_plain_ascii(dump):
    lines = (dump.parent / "patterns.txt").read_text("utf-8").splitlines()
    assert 10 <= len(lines) <= 14
    assert all(line.isascii() and line == line.lower() and line for line in lines)
    for key in ("vow", "mantra_ascii", "animal_welfare", "factory_farming"):
        assert PHRASES[key] in lines


def test_huge_json_is_one_sharegpt_array_of_the_requested_size(tmp_path):
    manifest = gen.generate(tmp_path / "d", size_mb=0.05, seed=3, huge_json_mb=0.5)
    huge = tmp_path / "d" / "exports" / "huge_sharegpt.json"
    items = json.loads(huge.read_text("utf-8"))
    assert all(set(item) == {"id", "conversations"} for item in items)
    assert 0.5 * MIB <= huge.stat().st_size <= 0.6 * MIB
    assert manifest["files"]["exports/huge_sharegpt.json"]["conversation_count"] == len(items)


# -- the runner's measuring parts, driven by small fake commands


def test_runner_times_a_command_and_reads_hits_from_its_json_summary():
    fake = [sys.executable, "-c", "import json; print(json.dumps({'hits': 42}))"]
    result = runner.measure("fake", fake, repeat=2, count_hits=runner.scan_hit_count)
    assert (result.ok, result.runs, result.hits) == (True, 2, 42)
    assert result.wall > 0 and result.peak_rss_kb > 0


def test_runner_reports_a_failing_command_with_its_stderr_tail():
    fake = [sys.executable, "-c", "import sys; sys.exit('boom: no such engine')"]
    result = runner.measure("fake", fake, repeat=3)
    assert (result.ok, result.returncode, result.runs) == (False, 1, 1)
    assert result.stderr_tail.endswith("boom: no such engine")


def test_runner_reports_a_missing_command_instead_of_raising():
    result = runner.measure("missing", ["backrooms-scan-not-installed-anywhere"], repeat=1)
    assert not result.ok and result.returncode == 127


def test_ripgrep_counts_are_summed_over_files():
    assert runner.ripgrep_line_count(b"a/b.txt:3\nc:d.txt:4\n") == 7


# -- the realistic profile


@pytest.fixture(scope="module")
def realistic(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("realistic") / "out"
    gen.generate(out, size_mb=2, seed=7, profile="realistic")
    return out


CP1252_BYTES = {char: byte for byte in range(0x80, 0xA0)
                if (char := bytes([byte]).decode("cp1252", errors="ignore"))}


def undo_double_encoding(data: bytes) -> str:
    """The text of a file, read back through cp1252 when it was saved double-encoded."""
    text = data.decode("utf-8")
    try:
        return bytes(CP1252_BYTES.get(char, ord(char)) for char in text).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return text


def test_realistic_text_holds_what_real_transcripts_hold(realistic):
    text = "".join(data.decode("utf-8") for data in dump_files(realistic).values())
    for mark in ("“", "’", "—", "…", "│", "═"):
        assert mark in text
    assert any(name in text for name in gen.ACCENTED_NAMES)
    assert any(emoji in text for emoji in gen.EMOJI)


def test_realistic_hits_are_a_few_per_thousand_spoken_turns(realistic):
    manifest = json.loads((realistic / "manifest.json").read_text("utf-8"))
    spoken = sum(manifest["totals"]["spoken"].values())
    assert manifest["profile"] == "realistic"
    assert 0 < spoken < 0.01 * manifest["turns"]["spoken"]


def test_realistic_dump_has_double_encoded_pages_and_escaped_json(realistic):
    files = dump_files(realistic)
    mojibake = [p for p, data in files.items()
                if p.startswith("backrooms/") and "â€" in data.decode("utf-8")]
    escaped = [p for p, data in files.items() if p.startswith("exports/") and b"\\u20" in data]
    assert mojibake and escaped


def test_realistic_manifest_matches_a_recount_of_each_file(realistic):
    manifest = json.loads((realistic / "manifest.json").read_text("utf-8"))
    for path, data in dump_files(realistic).items():
        found = Counter()
        for role, _, text in segments_of(path, undo_double_encoding(data)):
            found.update(phrase_counts(text))
        expected = Counter()
        for counts in manifest["files"][path]["plants"].values():
            expected.update(counts)
        assert found == expected, path
