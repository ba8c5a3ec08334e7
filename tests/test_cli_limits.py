"""--max-file-size: how large a file of a text layout, which is read whole, may be; a file
over it is skipped with the reason, never dropped silently. --max-record-size: the same for
one JSON record read whole (a JSONL line: skipped with a notice naming it)."""

from __future__ import annotations

import json

import pytest
from mock_environment import invoke

MIB = 1024 * 1024
TURNS = b"### Claude 1 ###\ngate gate paragate parasamgate bodhi svaha\n\n" \
        b"### Claude 2 ###\nthe shelves are made of breath\n\n"


def fork_log(tmp_path, size: int):
    path = tmp_path / "opus_opus_dreamsim_20240501_123000.txt"
    path.write_bytes(TURNS * (size // len(TURNS)))
    return path, size // len(TURNS)


def scan_json(path, *options: str):
    done = invoke("scan", str(path), "--set", "heart-sutra-mantra", "-f", "json", "--jobs", "1",
                  *options)
    return done, json.loads(done.stdout)


def test_a_file_over_max_file_size_is_skipped_with_the_reason(tmp_path):
    path, _ = fork_log(tmp_path, 3 * MIB // 2)
    done, summary = scan_json(path, "--max-file-size", "1M")
    assert (done.status, summary["files_scanned"], summary["files_skipped"]) == (1, 0, 1)
    assert summary["skipped"] == [{"path": str(path),
                                   "reason": "too large to read whole (more than 1 MiB)"}]
    assert f"{path}: too large to read whole (more than 1 MiB)" in done.stderr


def test_by_default_a_file_over_16_mib_is_skipped(tmp_path):
    path, _ = fork_log(tmp_path, 16 * MIB + 2 * len(TURNS))
    done, summary = scan_json(path)
    assert (done.status, summary["files_scanned"], summary["files_skipped"]) == (1, 0, 1)
    assert summary["skipped"] == [{"path": str(path),
                                   "reason": "too large to read whole (more than 16 MiB)"}]


def test_max_file_size_lets_a_larger_file_be_read_whole(tmp_path):
    path, recitals = fork_log(tmp_path, 3 * MIB // 2)
    _, smaller = scan_json(path, "--max-file-size", "1M")
    assert smaller["files_skipped"] == 1
    for size in ("2M", "1.5m", "2MiB", str(2 * MIB), "1G"):
        done, summary = scan_json(path, "--max-file-size", size)
        assert (done.status, summary["files_scanned"], summary["files_skipped"]) == (0, 1, 0)
        # Every recital is a hit of the full mantra and of its three parts, replays aside.
        assert summary["hits_including_replays"] == 4 * recitals


@pytest.mark.parametrize(("value", "told"), [
    ("lots", "'lots' is not a size such as 16M, 512K or 1G"),
    ("16 megs", "'16 megs' is not a size"),
    ("-1M", "'-1M' is not a size"),
    ("512K", "'512K' is below the smallest allowed, 1M"),
    ("0", "'0' is below the smallest allowed"),
])
def test_a_bad_max_file_size_is_refused_with_exit_2(value, told):
    done = invoke("scan", "--sample", "--max-file-size", value)
    assert done.status == 2
    assert told in done.stderr


def test_shards_of_different_max_file_size_are_not_merged(tmp_path):
    first, second = tmp_path / "s1.json", tmp_path / "s2.json"
    invoke("scan", "--sample", "--shard", "1/2", "--jobs", "1", "-o", str(first))
    invoke("scan", "--sample", "--shard", "2/2", "--jobs", "1", "-o", str(second),
           "--max-file-size", "64M")
    done = invoke("merge", str(first), str(second))
    assert done.status == 2
    assert (f"different options: --max-file-size is {16 * MIB} in {first}, {64 * MIB} in "
            f"{second}") in done.stderr
    invoke("scan", "--sample", "--shard", "2/2", "--jobs", "1", "-o", str(second),
           "--max-file-size", "16M")
    assert invoke("merge", str(first), str(second)).status == 0


def jsonl_with_a_long_line(tmp_path, size: int):
    """Three conversations on three lines, the second `size` bytes long; each holds the mantra."""
    def line(filler: str) -> str:
        return json.dumps({"messages": [{"role": "user", "content": filler}, {
            "role": "assistant", "content": "gate gate paragate parasamgate bodhi svaha"}]})
    short = line("hello")
    long = line("hello " * ((size - len(short)) // 6))
    path = tmp_path / "chats.jsonl"
    path.write_text(f"{short}\n{long}\n{short}\n", encoding="utf-8")
    return path


def test_a_jsonl_line_over_max_record_size_is_skipped_with_a_notice_naming_its_line(tmp_path):
    path = jsonl_with_a_long_line(tmp_path, 2 * MIB)

    done, summary = scan_json(path, "--max-record-size", "1M")

    assert done.status == 0, done.stderr
    assert summary["conversations"] == 2
    assert summary["hits_including_replays"] == 2 * 4  # the same reply twice: once a replay
    assert (f"{path}:2: a line of more than 1 MiB, the most one JSON line may hold"
            " (see --max-record-size); line skipped") in done.stderr


def test_the_default_max_record_size_reads_a_long_jsonl_line_and_a_larger_one_reads_it_too(tmp_path):
    path = jsonl_with_a_long_line(tmp_path, 2 * MIB)

    for options in ((), ("--max-record-size", "3M")):
        done, summary = scan_json(path, *options)
        assert done.status == 0, done.stderr
        assert (summary["conversations"], summary["hits_including_replays"], summary["notices"]) == (
            3, 3 * 4, {})


def test_a_jsonl_line_whose_text_takes_more_than_max_record_size_in_memory_is_skipped(tmp_path):
    # 400 KB of ASCII and one emoji: 4 bytes a character once decoded, 1.6 MB
    path = jsonl_with_a_long_line(tmp_path, 400_000)
    data = path.read_bytes().split(b"\n")
    data[1] = data[1].replace(b"hello", "🙏".encode(), 1)
    path.write_bytes(b"\n".join(data))

    done, summary = scan_json(path, "--max-record-size", "1M")

    assert done.status == 0, done.stderr
    assert (summary["conversations"], summary["hits_including_replays"]) == (2, 2 * 4)
    assert (f"{path}:2: a line whose text takes more than 1 MiB in memory (4 bytes a"
            " character, as it holds characters beyond the BMP), the most one JSON line may"
            " hold (see --max-record-size); line skipped") in done.stderr
    done, summary = scan_json(path, "--max-record-size", "2M")
    assert (summary["conversations"], summary["notices"]) == (3, {}), done.stderr


def sharegpt_array(tmp_path, *fillers: str):
    """A top-level array of ShareGPT conversations, one a filler, each reciting the mantra."""
    path = tmp_path / "chats.json"
    path.write_text(json.dumps([{"conversations": [
        {"from": "human", "value": filler},
        {"from": "gpt", "value": f"gate gate paragate parasamgate bodhi svaha {n}"}]}
        for n, filler in enumerate(fillers)], indent=1), encoding="utf-8")
    return path


def test_an_array_item_over_max_record_size_is_skipped_with_a_notice_and_the_rest_is_read(tmp_path):
    path = sharegpt_array(tmp_path, "hello", 'a "quoted" [bracket] ' * (MIB // 10), "hi", "hey")

    done, summary = scan_json(path, "--max-record-size", "1M", "--by", "conversation")

    assert done.status == 0, done.stderr
    assert (summary["conversations"], summary["hits_including_replays"]) == (3, 3 * 4)
    assert sorted(row["value"] for row in summary["by"]["conversation"]) == [
        f"{path}#1", f"{path}#3", f"{path}#4"]
    assert (f"{path}: item 2: an item of more than 1 MiB, the most one JSON record may hold"
            " (see --max-record-size); item skipped") in done.stderr


def test_an_array_item_whose_text_takes_more_than_max_record_size_in_memory_is_skipped(tmp_path):
    # one emoji (written as a JSON escape), in the block the item starts in, and 420 KB of
    # ASCII: 4 bytes a character, 1.7 MB
    path = sharegpt_array(tmp_path, "hello", "🙏" + "hello " * 70_000, "hi")

    done, summary = scan_json(path, "--max-record-size", "1M")

    assert done.status == 0, done.stderr
    assert (summary["conversations"], summary["hits_including_replays"]) == (2, 2 * 4)
    assert (f"{path}: item 2: an item whose text takes more than 1 MiB in memory (4 bytes a"
            " character, as it holds characters beyond the BMP), the most one JSON record may"
            " hold (see --max-record-size); item skipped") in done.stderr


def test_an_array_whose_only_item_is_over_max_record_size_is_skipped_with_the_reason(tmp_path):
    path = sharegpt_array(tmp_path, "hello " * (MIB // 5))

    done, summary = scan_json(path, "--max-record-size", "1M")

    assert done.status == 1
    assert summary["skipped"] == [{"path": str(path), "reason": "item 1: an item of more than 1 MiB,"
                                   " the most one JSON record may hold (see --max-record-size)"}]


def test_the_default_max_record_size_reads_a_long_array_item_and_the_items_after_it(tmp_path):
    # past 4 MiB, so the items after it are read by a new parse
    path = sharegpt_array(tmp_path, "hello", "hello " * (5 * MIB // 6), "hi")

    done, summary = scan_json(path)

    assert (summary["conversations"], summary["hits_including_replays"], summary["notices"]) == (
        3, 3 * 4, {}), done.stderr


def test_a_json_document_over_max_record_size_is_skipped_with_the_reason(tmp_path):
    path = tmp_path / "chat.json"
    path.write_text(json.dumps({"conversations": [
        {"from": "human", "value": "hello " * (MIB // 3)},
        {"from": "gpt", "value": "gate gate paragate parasamgate bodhi svaha"}]}, indent=1),
        encoding="utf-8")

    done, summary = scan_json(path, "--max-record-size", "1M")

    assert done.status == 1
    assert summary["skipped"] == [{"path": str(path), "reason": "a JSON document of more than"
                                   " 1 MiB is not read whole (see --max-record-size)"}], summary


def test_a_json_document_whose_text_takes_more_than_max_record_size_in_memory_is_skipped(tmp_path):
    path = tmp_path / "chat.json"
    path.write_text(json.dumps({"conversations": [
        {"from": "human", "value": "hello " * 70_000 + "🙏"},
        {"from": "gpt", "value": "gate gate paragate parasamgate bodhi svaha"}]}, indent=1,
        ensure_ascii=False), encoding="utf-8")

    done, summary = scan_json(path, "--max-record-size", "1M")

    assert done.status == 1
    assert summary["skipped"] == [{"path": str(path), "reason": "a JSON document whose text"
                                   " takes more than 1 MiB in memory (4 bytes a character, as"
                                   " it holds characters beyond the BMP) is not read whole"
                                   " (see --max-record-size)"}], summary
    done, summary = scan_json(path, "--max-record-size", "2M")
    assert summary["conversations"] == 1, done.stderr
