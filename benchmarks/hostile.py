"""Hostile inputs at full size: how each one ends, how long it takes, how much memory.

    python benchmarks/hostile.py [--code DIR] [--only NAME ...] [--small]
                                 [--timeout 60] [--memory-gb 4] [--keep DIR]

Builds every case in a temporary directory, runs `python -m backrooms_scan`
on it (from `--code DIR`, default this checkout) in a subprocess limited to
`--memory-gb` of address space and killed after `--timeout` seconds, and
prints a table: case, exit status (TIMEOUT when killed), seconds, peak RSS,
whether a traceback reached stderr, and stderr's last line. `--small` builds
the sizes tests/test_hostile.py uses. The script itself always exits 0.

The builders are also imported by tests/test_hostile.py: each case takes a
folder and `full` (the campaign's size, or a size CI can afford, same shape).
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import os
import resource
import struct
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import zstandard

KIB, MIB, GIB = 1024, 1024**2, 1024**3
HERE = Path(__file__).resolve().parent.parent


# --- building blocks ------------------------------------------------------------------

def fork_log(turns: int, hit_every: int = 5) -> bytes:
    """A fork log of `turns` turns; every `hit_every`-th one recites the mantra."""
    lines = []
    for n in range(turns):
        lines.append(f"### Claude {n % 2 + 1} ###")
        if n % hit_every == 0:
            lines.append("gate gate paragate parasamgate bodhi svaha")
        else:
            lines.append(f"the shelves are made of breath, turn {n}")
        lines.append("")
    return ("\n".join(lines) + "\n").encode()


HIT_TEXT = fork_log(4)


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def tar_header(name: str, size: int, kind: bytes = tarfile.REGTYPE, **extra) -> bytes:
    info = tarfile.TarInfo(name)
    info.size, info.type = size, kind
    for key, value in extra.items():
        setattr(info, key, value)
    return info.tobuf(format=tarfile.GNU_FORMAT)


def padded(data: bytes) -> bytes:
    return data + b"\0" * (-len(data) % 512)


def tar_file(name: str, data: bytes) -> bytes:
    return tar_header(name, len(data)) + padded(data)


def zip_with_shared_member(entries: int, member_bytes: int) -> bytes:
    """A zip whose central directory lists one deflated member `entries` times."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("m0.txt", b"\n" * member_bytes)
    data = buffer.getvalue()
    start = data.rindex(b"PK\x01\x02")
    end = data.rindex(b"PK\x05\x06")
    central = data[start:end]
    entries_data = central * entries  # the same name and offset each time, as zipfile checks
    record = bytearray(data[end:])
    struct.pack_into("<HHII", record, 8, entries, entries, len(entries_data), start)
    return data[:start] + entries_data + bytes(record)


def zip_with_renamed_member(old: str, new: bytes, members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue().replace(old.encode(), new)


def nested_dirs(root: Path, depth: int) -> Path:
    """`depth` directories one in another, built without recursion, a transcript at the end."""
    root.mkdir()
    path = root
    for _ in range(depth):
        path = path / "d"
        os.mkdir(path)
    write(path / "deep.txt", HIT_TEXT)
    return root


def remove_nested(root: Path) -> None:
    """Remove a chain of single directories bottom up: shutil.rmtree recurses."""
    path = root
    while (below := [entry for entry in os.scandir(path) if entry.is_dir()]):
        path = Path(below[0].path)
    while True:
        for entry in os.scandir(path):
            os.unlink(entry.path)
        path.rmdir()
        if path == root:
            return
        path = path.parent


def deep_yaml(depth: int) -> str:
    return "name: deep\npatterns:\n  - " + "[" * depth + "x" + "]" * depth + "\n"


def pattern_file(path: Path, body: str) -> Path:
    path.write_text("name: hostile\npatterns:\n" + body, encoding="utf-8")
    return path


# --- the cases ------------------------------------------------------------------------

@dataclass
class Case:
    """One hostile input: `build(folder, full)` returns the argv after `backrooms-scan`."""

    name: str
    build: Callable[[Path, bool], list[str]]
    exits: tuple[int, ...]  # the exit statuses that are right
    told: tuple[str, ...] = ()  # fragments stderr (or stdout, for patterns check) must hold
    counts: tuple[int, int] | None = None  # files (and members) scanned and skipped
    small_seconds: float = 20.0  # what the small case may take in CI, generously
    small_rss_mb: int = 600
    in_suite: bool = True  # tests/test_hostile.py runs it; some are figures only


def scan_args(*paths: Path, fmt: str = "json") -> list[str]:
    return ["scan", *map(str, paths), "--set", "heart-sutra-mantra", "-f", fmt, "--jobs", "1"]


def tar_declaring_1e12(folder: Path, full: bool) -> list[str]:
    data = tar_header("big.txt", 10**12) + padded(b"hello\n")
    return scan_args(write(folder / "declared.tar", data),
                     write(folder / "declared.tar.gz", gzip.compress(data)),
                     write(folder / "ok.txt", HIT_TEXT))


def zip_overlapping(folder: Path, full: bool) -> list[str]:
    entries, size = (2000, 60 * MIB) if full else (200, 1 * MIB)
    return scan_args(write(folder / "overlap.zip", zip_with_shared_member(entries, size)),
                     write(folder / "ok.txt", HIT_TEXT))


def zip_nul_name(folder: Path, full: bool) -> list[str]:
    data = zip_with_renamed_member("Xevil.txt", b"\0evil.txt",
                                   {"Xevil.txt": HIT_TEXT, "good.txt": HIT_TEXT})
    return scan_args(write(folder / "nul.zip", data))


def tar_special_members(folder: Path, full: bool) -> list[str]:
    data = b"".join([
        tar_header("dir/", 0, tarfile.DIRTYPE),
        tar_header("dir/link.txt", 0, tarfile.SYMTYPE, linkname="good.txt"),
        tar_header("dir/hard.txt", 0, tarfile.LNKTYPE, linkname="good.txt"),
        tar_header("dir/null", 0, tarfile.CHRTYPE, devmajor=1, devminor=3),
        tar_header("dir/pipe", 0, tarfile.FIFOTYPE),
        tar_file("dir/good.txt", HIT_TEXT),
    ]) + b"\0" * 1024
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as archive:
        link = zipfile.ZipInfo("link.txt")
        link.external_attr = 0o120777 << 16
        archive.writestr(link, "good.txt")
        archive.writestr("good.txt", HIT_TEXT)
    return scan_args(write(folder / "special.tar", data),
                     write(folder / "special.zip", zipped.getvalue()))


def tar_bad_second_header(folder: Path, full: bool) -> list[str]:
    second = bytearray(tar_file("b.txt", HIT_TEXT))
    second[148:156] = b"0000000\0"  # a checksum no header has
    data = tar_file("a.txt", HIT_TEXT) + bytes(second) + tar_file("c.txt", HIT_TEXT)
    return scan_args(write(folder / "checksum.tar", data + b"\0" * 1024))


def empty_archives(folder: Path, full: bool) -> list[str]:
    zipped = io.BytesIO()
    zipfile.ZipFile(zipped, "w").close()
    return scan_args(write(folder / "zeros.tar", b"\0" * 10240),
                     write(folder / "empty.zip", zipped.getvalue()),
                     write(folder / "ok.txt", HIT_TEXT))


def trailing_garbage(folder: Path, full: bool) -> list[str]:
    garbage = b"this is not compressed data\n" * 10
    return scan_args(
        write(folder / "a.txt.gz", gzip.compress(HIT_TEXT) + garbage),
        write(folder / "b.txt.zst", zstandard.ZstdCompressor().compress(HIT_TEXT) + garbage),
    )


def gzip_bomb_text(folder: Path, full: bool) -> list[str]:
    """A small .gz of one fork log far larger than a file may be held whole."""
    turn = fork_log(2, hit_every=1000)
    size = 1 * GIB if full else 80 * MIB
    path = folder / "bomb.txt.gz"
    with gzip.open(path, "wb", compresslevel=9) as out:
        block = turn * (MIB // len(turn))
        for _ in range(size // len(block)):
            out.write(block)
    return scan_args(path, write(folder / "ok.txt", HIT_TEXT))


def deep_tree(folder: Path, full: bool) -> list[str]:
    return scan_args(nested_dirs(folder / "tree", 1100))


def same_path_twice(folder: Path, full: bool) -> list[str]:
    path = write(folder / "dir" / "a.txt", HIT_TEXT)
    return scan_args(path, path, folder / "dir")


def fifo_without_writer(folder: Path, full: bool) -> list[str]:
    os.mkfifo(folder / "pipe")
    return scan_args(folder / "pipe", write(folder / "ok.txt", HIT_TEXT))


def deep_yaml_check(folder: Path, full: bool) -> list[str]:
    depth = 10_000 if full else 2_000
    return ["patterns", "check", str(write(folder / "deep.yaml", deep_yaml(depth).encode()))]


def deep_yaml_scan(folder: Path, full: bool) -> list[str]:
    path = write(folder / "deep.yaml", deep_yaml(10_000 if full else 2_000).encode())
    return ["scan", "--sample", "-p", str(path)]


def within_not_decimal(folder: Path, full: bool) -> list[str]:
    files = []
    for n, value in enumerate(("0x_", "0b_", "4" * 4301, "0", "-5", "1_000")):
        files.append(str(pattern_file(
            folder / f"within{n}.yaml",
            f"  - id: r\n    all_of: [gate gate, bodhi svaha]\n    within: {value}\n")))
    return ["patterns", "check", *files]


def numbered_phrases(count: int) -> str:
    """`count` phrases of one pattern, as YAML list items: distinct and of one length, so
    none holds another (which the pattern check would refuse on its own)."""
    return "".join(f"      - phrase number {n:06d}\n" for n in range(count))


def many_phrases(folder: Path, full: bool) -> list[str]:
    count = 100_001 if full else 20_001
    path = pattern_file(folder / "many.yaml",
                        "  - id: many\n    phrases:\n" + numbered_phrases(count))
    return ["patterns", "check", str(path)]


def phrases_at_limit(folder: Path, full: bool) -> list[str]:
    """The most phrases a pattern file may hold, in one pattern, scanned on the sample."""
    count = 100_000 if full else 20_000
    path = pattern_file(folder / "many.yaml",
                        "  - id: many\n    phrases:\n" + numbered_phrases(count))
    return ["scan", "--sample", "-p", str(path), "-f", "json", "--jobs", "1"]


def many_recitation_rules(folder: Path, full: bool) -> list[str]:
    """`all_of` rules by the thousand, each of two phrases of its own, on the sample."""
    count = 20_000 if full else 2_000
    rules = "".join(f"  - id: rule{n:06d}\n    all_of: [gate {n:06d}, svaha {n:06d}]\n"
                    f"    within: 200\n" for n in range(count))
    return ["scan", "--sample", "-p", str(pattern_file(folder / "rules.yaml", rules)),
            "-f", "json", "--jobs", "1"]


def long_phrase(folder: Path, full: bool) -> list[str]:
    size = MIB if full else 20_000
    path = pattern_file(folder / "long.yaml", "  - " + "om " * (size // 3) + "\n")
    return ["scan", "--sample", "-p", str(path)]


def shards(folder: Path, code: Path, *extra_options: list[str]) -> list[Path]:
    """Shard results 1/2 and 2/2 of the sample, each scan with its own extra options."""
    paths = []
    for index, extra in enumerate(extra_options, start=1):
        path = folder / f"shard{index}.json"
        subprocess.run(
            [sys.executable, "-m", "backrooms_scan", "scan", "--sample", "--jobs", "1",
             "--shard", f"{index}/2", "-f", "json", "-o", str(path), *extra],
            env={**os.environ, "PYTHONPATH": str(code)}, check=False, capture_output=True,
        )
        paths.append(path)
    return paths


def merge_corrupted(folder: Path, full: bool, code: Path = HERE) -> list[str]:
    first, second = shards(folder, code, [], [])
    document = json.loads(first.read_text())
    document["state"][0].pop("turns", None)
    first.write_text(json.dumps(document))
    return ["merge", str(first), str(second)]


def merge_different_options(folder: Path, full: bool, code: Path = HERE) -> list[str]:
    return ["merge", *map(str, shards(folder, code, ["--role", "all"], []))]


def utf16_json_without_bom(folder: Path, full: bool) -> list[str]:
    text = json.dumps([{"conversations": [
        {"from": "human", "value": "중생은 가없으나 맹세코 건지리다"},
        {"from": "gpt", "value": "gate gate paragate parasamgate bodhi svaha"}]}] * 20,
        ensure_ascii=False)
    return scan_args(write(folder / "sharegpt.json", text.encode("utf-16-le")))


def largest_whole_file(folder: Path, full: bool) -> list[str]:
    """A fork log of short turns just under the size a file may have to be read whole."""
    turn = fork_log(2, hit_every=1000)
    return scan_args(write(folder / "big.txt", turn * ((16 * MIB - 4096) // len(turn))))


def dense_hits_line(folder: Path, full: bool) -> list[str]:
    """One line of mantras just under the whole-file limit: 1.8 million hits (4 MiB and
    450,000 small)."""
    size = 16 * MIB if full else 4 * MIB
    line = b"gate gate paragate parasamgate bodhi svaha " * ((size - 4096) // 44)
    return scan_args(write(folder / "line.txt", b"### Claude 1 ###\n" + line + b"\n"))


MANTRA = b"gate gate paragate parasamgate bodhi svaha"
FILLER = b"the shelves are made of breath and the corridors hum "  # 54 bytes, no hit


def long_line(size: int, hits: bool) -> bytes:
    """`size` bytes on one line: filler, with a mantra after every second filler run when
    `hits` (about 2 million hits in 100 MB)."""
    unit = FILLER * 2 + (MANTRA + b" " if hits else FILLER[:44])
    return unit * (size // len(unit))


def single_line(folder: Path, full: bool, hits: bool) -> list[str]:
    size = 100 * MIB if full else 20 * MIB
    data = b"### Claude 1 ###\n" + long_line(size, hits) + b"\n"
    return scan_args(write(folder / "line.txt", data), write(folder / "ok.txt", HIT_TEXT))


def single_line_read_whole(folder: Path, full: bool, hits: bool) -> list[str]:
    """The single line with --max-file-size raised, so it is read and searched."""
    return [*single_line(folder, full, hits), "--max-file-size", "128M"]


def jsonl_over_record_limit(folder: Path, full: bool) -> list[str]:
    """A JSONL file whose second line of 200 MB is over the default --max-record-size
    (3 MB, over --max-record-size 1M, small)."""
    size = 200 * MIB if full else 3 * MIB
    small = json.dumps({"messages": [{"role": "user", "content": "hello"}, {
        "role": "assistant", "content": MANTRA.decode()}]})
    big = json.dumps({"messages": [{"role": "user", "content": "hello"}, {
        "role": "assistant", "content": long_line(size, True).decode()}]})
    path = write(folder / "big.jsonl", f"{small}\n{big}\n{small}\n".encode())
    return [*scan_args(path), *(() if full else ("--max-record-size", "1M"))]


def grep_long_line(folder: Path, full: bool) -> list[str]:
    """-f grep on one line of 300 KB with 28,000 hits (60 KB and 5,600 small), to /dev/null."""
    size = 300 * KIB if full else 60 * KIB
    line = (MANTRA + b" ") * (size // 44)
    path = write(folder / "line.txt", b"### Claude 1 ###\n" + line + b"\n")
    return [*scan_args(path, fmt="grep"), "-o", os.devnull]


def json_string(folder: Path, full: bool) -> list[str]:
    """One ShareGPT conversation whose second message is one string of 80 MB."""
    size = 80 * MIB if full else 16 * MIB
    text = long_line(size, True).decode()
    data = json.dumps({"conversations": [{"from": "human", "value": "hello"},
                                         {"from": "gpt", "value": text}]}).encode()
    return scan_args(write(folder / "big.json", data))


def jsonl_line(folder: Path, full: bool) -> list[str]:
    """A JSONL file whose second line is one conversation of 120 MB, between small ones."""
    size = 120 * MIB if full else 24 * MIB
    small = json.dumps({"messages": [{"role": "user", "content": "hello"}, {
        "role": "assistant", "content": MANTRA.decode()}]})
    big = json.dumps({"messages": [{"role": "user", "content": "hello"}, {
        "role": "assistant", "content": long_line(size, True).decode()}]})
    data = f"{small}\n{big}\n{small}\n"
    return scan_args(write(folder / "big.jsonl", data.encode()))



LIGATURES = "ﬁ ß ～ "  # each folds to more characters than it has
EMOJI = "🙏"


def sharegpt(value: str) -> str:
    return json.dumps({"conversations": [{"from": "human", "value": "hello"},
                                         {"from": "gpt", "value": value}]})


def array_item(folder: Path, size: int, opening: str = "") -> Path:
    """A ShareGPT array of three conversations, the second holding one string of `size`
    bytes after `opening`, written a piece at a time."""
    path = folder / "big.json"
    small = sharegpt(MANTRA.decode())
    head, tail = sharegpt("\0").encode().split(b"\\u0000")
    unit = FILLER * 2 + MANTRA + b" "
    with path.open("wb") as out:
        out.write(f"[{small},\n".encode() + head + opening.encode())
        block = unit * (MIB // len(unit))
        for _ in range(size // len(block)):
            out.write(block)
        out.write(tail + f",\n{small}]\n".encode())
    return path


def array_item_over_record_limit(folder: Path, full: bool) -> list[str]:
    """A ShareGPT array whose second item holds one string of 200 MB, over the default
    --max-record-size (3 MB, over --max-record-size 1M, small), between two small items."""
    path = array_item(folder, 200 * MIB if full else 3 * MIB)
    return [*scan_args(path), *(() if full else ("--max-record-size", "1M"))]


def array_item_under_record_limit(folder: Path, full: bool) -> list[str]:
    """A ShareGPT array whose second item holds one string of 120 MB (24 MB small)."""
    return scan_args(array_item(folder, 120 * MIB if full else 24 * MIB))


def array_item_with_emoji(folder: Path, full: bool) -> list[str]:
    """A ShareGPT array whose second item holds one string of 120 MB of ASCII (24 MB small)
    that opens with an emoji."""
    return scan_args(array_item(folder, 120 * MIB if full else 24 * MIB, EMOJI))




def format_a(turn_text: str) -> bytes:
    return ("actors: explorer, simulator\nmodels: claude-3-opus-20240229, claude-3-opus-20240229\n"
            "temp: 1, 1\n\n<explorer>\n" + turn_text + "\n\n<simulator>\n"
            + MANTRA.decode() + "\n").encode()


def emoji_json_document(folder: Path, full: bool) -> list[str]:
    """One ShareGPT conversation on several lines, a message of 100 MB of ASCII after an
    emoji (20 MB small)."""
    path = folder / "big.json"
    unit = FILLER * 2 + MANTRA + b" "
    block = unit * (MIB // len(unit))
    with path.open("wb") as out:
        out.write(('{"conversations": [\n {"from": "human", "value": "' + EMOJI).encode())
        for _ in range((100 if full else 20) * MIB // len(block)):
            out.write(block)
        out.write(f'"}},\n {{"from": "gpt", "value": "{MANTRA.decode()}"}}]}}\n'.encode())
    return scan_args(path)


def ligature_format_a(folder: Path, full: bool) -> list[str]:
    """A format-A file just under the whole-file limit (4 MiB small), its first turn lines
    of characters whose folding is longer than they are, with a mantra now and then."""
    size = 16 * MIB - 4096 if full else 4 * MIB
    line = LIGATURES * 12 + MANTRA.decode() + "\n"
    turn = line * (size // len(line.encode()))
    return scan_args(write(folder / "ligatures.txt", format_a(turn)))


def emoji_fork_log(folder: Path, full: bool) -> list[str]:
    """The largest fork log read whole (4 MiB small), of short turns, with one character
    outside the BMP, which makes every character of its text take 4 bytes."""
    turn = fork_log(2, hit_every=1000)
    body = turn * (((16 * MIB if full else 4 * MIB) - 4096) // len(turn))
    return scan_args(write(folder / "emoji.txt",
                           b"### Claude 1 ###\n" + EMOJI.encode() + b"\n\n" + body))


def jsonl_text_line(folder: Path, size: int, text: str, opening: str = "") -> Path:
    """A JSONL file whose second line holds one message of about `size` bytes of `text`
    repeated after `opening`, unescaped, between small lines."""
    small = json.dumps({"messages": [{"role": "user", "content": "hello"}, {
        "role": "assistant", "content": MANTRA.decode()}]})
    head, tail = json.dumps({"messages": [{"role": "user", "content": "hello"}, {
        "role": "assistant", "content": "\0"}]}).encode().split(b"\\u0000")
    unit = text.encode()
    block = unit * (MIB // len(unit))
    path = folder / "big.jsonl"
    with path.open("wb") as out:
        out.write(f"{small}\n".encode() + head + opening.encode())
        for _ in range(size // len(block)):
            out.write(block)
        out.write(tail + f"\n{small}\n".encode())
    return path


def ligature_jsonl_line(folder: Path, full: bool) -> list[str]:
    """A 120 MB JSONL line (24 MB small) of characters whose folding is longer than they are."""
    text = LIGATURES * 12 + MANTRA.decode() + " "
    return scan_args(jsonl_text_line(folder, 120 * MIB if full else 24 * MIB, text))


def emoji_jsonl_line(folder: Path, full: bool) -> list[str]:
    """A 120 MB JSONL line (24 MB small) of ASCII text and one character outside the BMP."""
    return scan_args(jsonl_text_line(folder, 120 * MIB if full else 24 * MIB,
                                     (FILLER * 2 + MANTRA + b" ").decode(), EMOJI))


def emoji_jsonl_line_read(folder: Path, full: bool) -> list[str]:
    """The longest JSONL line of ASCII and one emoji read by default: its text takes just
    under 128 MiB in memory, 4 bytes a character (6 MiB small)."""
    return scan_args(jsonl_text_line(folder, 32 * MIB - 64 * KIB if full else 6 * MIB,
                                     (FILLER * 2 + MANTRA + b" ").decode(), EMOJI))


def mantra_jsonl_line(folder: Path, full: bool, fmt: str = "json",
                      extra: tuple[str, ...] = ()) -> list[str]:
    """A JSONL line just under --max-record-size that is nothing but the mantra: 3 million
    recitations, 12 million hits (8 MiB small)."""
    path = jsonl_text_line(folder, (128 * MIB if full else 8 * MIB) - 4096,
                           MANTRA.decode() + " ")
    return [*scan_args(path, fmt=fmt), *extra]


def hits_on_many_lines(folder: Path, full: bool, fmt: str, extra: tuple[str, ...]) -> list[str]:
    """One fork-log turn of 16 MiB (2 MiB small), lines of filler with a mantra on every
    tenth line: each hit's line and column, for output that places every hit."""
    size = 16 * MIB - 4096 if full else 2 * MIB
    lines = (FILLER + b"\n") * 9 + MANTRA + b"\n"
    body = lines * (size // len(lines))
    path = write(folder / "lines.txt", b"### Claude 1 ###\n" + body)
    return [*scan_args(path, fmt=fmt), *extra]


CASES = [
    Case("tar member declaring 10^12 bytes", tar_declaring_1e12, (0,),
         ("declared.tar!big.txt", "declared.tar.gz!big.txt"), counts=(1, 4)),
    Case("zip: 2,000 entries share one 60 MiB member", zip_overlapping, (0,),
         ("overlap.zip: broken archive:", "overlap"), counts=(1, 1)),
    Case("zip member name starting with NUL", zip_nul_name, (0,),
         ("nul.zip!\\x00evil.txt: member name holds a NUL byte",), counts=(1, 1)),
    Case("tar/zip symlink, hardlink, device, fifo members", tar_special_members, (0,),
         ("special.tar!dir/link.txt: symlink member", "special.tar!dir/hard.txt: hardlink member",
          "special.tar!dir/null: device member", "special.tar!dir/pipe: fifo member",
          "special.zip!link.txt: symlink member"), counts=(2, 5)),
    Case("tar: bad checksum on the second header", tar_bad_second_header, (0,),
         ("checksum.tar: broken archive: bad checksum at byte 1024",), counts=(1, 1)),
    Case("all-zero .tar and empty zip", empty_archives, (0,),
         ("zeros.tar: empty archive", "empty.zip: empty archive"), counts=(1, 2)),
    Case("gz and zst with trailing garbage", trailing_garbage, (0,),
         ("a.txt.gz: bytes after the end of the gzip stream",
          "b.txt.zst: bytes after the end of the zstd stream"), counts=(2, 0)),
    Case("1.6 MB .gz of 1 GiB fork log", gzip_bomb_text, (0,),
         ("bomb.txt.gz: too large to read whole",), counts=(1, 1), small_seconds=60),
    Case("directory tree 1,100 levels deep", deep_tree, (0,), counts=(1, 0)),
    Case("same path given twice, and its parent", same_path_twice, (0,),
         ("already read as",), counts=(1, 2)),
    Case("FIFO named with no writer", fifo_without_writer, (0,),
         ("pipe: no data came within",), counts=(1, 1), small_seconds=40),
    Case("YAML nested 10,000 deep: patterns check", deep_yaml_check, (2,),
         ("deep.yaml:3:", "nested deeper than")),
    Case("YAML nested 10,000 deep: scan -p", deep_yaml_scan, (2,),
         ("deep.yaml:3:", "nested deeper than")),
    Case("within: 0x_, 0b_, 4,301 digits, 0, -5, 1_000", within_not_decimal, (2,),
         ("within0.yaml:5:13: 'within' must be a positive integer in decimal digits",
          "within2.yaml:5:13: 'within' must be at most", "within5.yaml:5:13:")),
    Case("one pattern with 100,001 phrases (20,001 small)", many_phrases, (2,),
         ("many.yaml:100005:9: more than 100000 phrases in one pattern file",), in_suite=False),
    Case("one pattern with 100,000 phrases: scan", phrases_at_limit, (1,), counts=(7, 1),
         small_seconds=60),
    Case("one 1 MB phrase", long_phrase, (2,), ("long.yaml:3:5: phrase of",)),
    Case("20,000 all_of patterns (2,000 small): scan", many_recitation_rules, (1,),
         counts=(7, 1), small_seconds=60),
    Case("merge: a shard without 'turns'", merge_corrupted, (2,),
         ("shard1.json: not a valid shard result: field 'state[0].turns' is missing",)),
    Case("merge: shards with --role all and the default", merge_different_options, (2,),
         ("different options: --role is all",)),
    Case("UTF-16 JSON without a BOM", utf16_json_without_bom, (0,), in_suite=False),
    Case("16 MiB fork log, the largest read whole", largest_whole_file, (0,), in_suite=False),
    Case("16 MiB line of mantras, 1.8 million hits", dense_hits_line, (0,), counts=(1, 0),
         small_seconds=30, small_rss_mb=180),
    Case("100 MB single line, 2 million hits (20 MB small)",
         partial(single_line, hits=True), (0,), in_suite=False),
    Case("100 MB single line, no hit (20 MB small)",
         partial(single_line, hits=False), (0,), in_suite=False),
    Case("100 MB single line read whole, 2 million hits (20 MB small)",
         partial(single_line_read_whole, hits=True), (0,), counts=(2, 0), small_seconds=60,
         small_rss_mb=165),
    Case("100 MB single line read whole, no hit (20 MB small)",
         partial(single_line_read_whole, hits=False), (0,), counts=(2, 0), small_seconds=60,
         small_rss_mb=160),
    Case("80 MB JSON string (16 MB small)", json_string, (0,), counts=(1, 0), small_seconds=60,
         small_rss_mb=170),
    Case("120 MB JSONL line (24 MB small)", jsonl_line, (0,), counts=(1, 0), small_seconds=60,
         small_rss_mb=200),
    Case("200 MB JSONL line, over --max-record-size", jsonl_over_record_limit, (0,),
         ("big.jsonl:2: a line of more than",), counts=(1, 0), small_rss_mb=150),
    Case("-f grep: 300 KB line, 28,000 hits (60 KB, 5,600 small)", grep_long_line, (0,),
         small_seconds=20, small_rss_mb=200),
    Case("200 MB string in a JSON array item, over --max-record-size",
         array_item_over_record_limit, (0,), ("big.json: item 2: ",), counts=(1, 0),
         small_rss_mb=150),
    Case("120 MB string in a JSON array item (24 MB small)", array_item_under_record_limit,
         (0,), counts=(1, 0), small_seconds=60, small_rss_mb=200),
    Case("120 MB string with one emoji in a JSON array item (24 MB small)",
         array_item_with_emoji, (0,), counts=(1, 0), small_seconds=60, small_rss_mb=300),
    Case("100 MB JSON document with one emoji (20 MB small)", emoji_json_document, (0, 1),
         small_seconds=60, small_rss_mb=350),
    Case("16 MiB format-A file of ligatures (4 MiB small)", ligature_format_a, (0,),
         counts=(1, 0), small_seconds=60, small_rss_mb=200),
    Case("16 MiB fork log with one emoji (4 MiB small)", emoji_fork_log, (0,), counts=(1, 0),
         small_seconds=60, small_rss_mb=250),
    Case("120 MB JSONL line of ligatures (24 MB small)", ligature_jsonl_line, (0,),
         counts=(1, 0), small_seconds=90, small_rss_mb=250),
    Case("120 MB JSONL line with one emoji (24 MB small)", emoji_jsonl_line, (0,),
         counts=(1, 0), small_seconds=60, small_rss_mb=300),
    Case("32 MiB JSONL line with one emoji, the widest read (6 MiB small)",
         emoji_jsonl_line_read, (0,), counts=(1, 0), small_rss_mb=250),
    Case("128 MiB JSONL line of mantras, -f json (8 MiB small)", mantra_jsonl_line, (0,),
         counts=(1, 0), small_seconds=60, small_rss_mb=250),
    Case("128 MiB JSONL line of mantras, -f jsonl (8 MiB small)",
         partial(mantra_jsonl_line, fmt="jsonl", extra=("-o", os.devnull)), (0,),
         small_seconds=90, small_rss_mb=250),
    Case("128 MiB JSONL line of mantras, -f grep (8 MiB small)",
         partial(mantra_jsonl_line, fmt="grep", extra=("-o", os.devnull)), (0,),
         small_seconds=90, small_rss_mb=250),
    Case("128 MiB JSONL line of mantras, snippets --sort left (8 MiB small)",
         partial(mantra_jsonl_line, fmt="plain", extra=("--sort", "left", "-o", os.devnull)),
         (0,), small_seconds=90, small_rss_mb=250),
    Case("16 MiB turn, hit on every 10th line, -f html (2 MiB small)",
         partial(hits_on_many_lines, fmt="html", extra=("-o", os.devnull)), (0,),
         small_seconds=30, small_rss_mb=250),
    Case("16 MiB turn, hit on every 10th line, snippets --sort left (2 MiB small)",
         partial(hits_on_many_lines, fmt="plain", extra=("--sort", "left", "-o", os.devnull)),
         (0,), small_seconds=30, small_rss_mb=250),
]


# --- running --------------------------------------------------------------------------

@dataclass
class Outcome:
    exit: int | str
    seconds: float
    peak_rss_mb: float
    stdout: str
    stderr: str

    @property
    def traceback(self) -> bool:
        return "Traceback (most recent call last)" in self.stderr


def run_case(args: list[str], code: Path, timeout: float, memory_gb: float,
             cwd: Path | None = None) -> Outcome:
    """Run `python -m backrooms_scan ARGS` from `code` with an address-space cap and a
    timeout; its peak RSS comes from wait4, for this child alone."""
    limit = int(memory_gb * GIB)

    def cap_memory() -> None:
        os.setsid()
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-m", "backrooms_scan", *args], stdin=subprocess.DEVNULL,
            stdout=out, stderr=err, cwd=cwd,
            preexec_fn=cap_memory,  # noqa: PLW1509 - the timer thread starts after the fork
            env={**os.environ, "PYTHONPATH": str(code), "NO_COLOR": "1"},
        )
        killed = threading.Event()

        def kill() -> None:
            killed.set()
            os.killpg(process.pid, 9)

        timer = threading.Timer(timeout, kill)
        timer.start()
        _, status, usage = os.wait4(process.pid, 0)
        timer.cancel()
        process.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        return Outcome("TIMEOUT" if killed.is_set() else process.returncode, seconds,
                       usage.ru_maxrss / 1024, out.read().decode(errors="replace"),
                       err.read().decode(errors="replace"))


def build(case: Case, folder: Path, full: bool, code: Path) -> list[str]:
    if case.build in (merge_corrupted, merge_different_options):
        return case.build(folder, full, code)
    return case.build(folder, full)


def told(outcome: Outcome) -> str:
    """stderr, or the report of `patterns check`, which is on stdout."""
    return outcome.stderr if outcome.stderr.strip() or outcome.exit != 2 else outcome.stdout


def last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:90] if lines else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--code", type=Path, default=HERE, help="checkout to run")
    parser.add_argument("--only", nargs="*", help="cases whose name holds one of these")
    parser.add_argument("--small", action="store_true", help="the sizes CI uses")
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--memory-gb", type=float, default=4.0)
    parser.add_argument("--keep", type=Path, help="build the inputs here and keep them")
    options = parser.parse_args()
    print(f"code: {options.code}  size: {'small' if options.small else 'full'}  "
          f"timeout {options.timeout:g} s  address space {options.memory_gb:g} GB")
    print(f"| {'case':50} | exit | seconds | peak RSS MB | traceback | last stderr line |")
    print(f"|{'-' * 52}|------|---------|-------------|-----------|------------------|")
    for case in CASES:
        if options.only and not any(word in case.name for word in options.only):
            continue
        with tempfile.TemporaryDirectory(dir=options.keep) as temp:
            folder = Path(temp)
            args = build(case, folder, not options.small, options.code)
            outcome = run_case(args, options.code, options.timeout, options.memory_gb, folder)
            if (folder / "tree").exists():
                remove_nested(folder / "tree")
        print(f"| {case.name:50} | {outcome.exit!s:>4} | {outcome.seconds:7.2f} | "
              f"{outcome.peak_rss_mb:11.0f} | {'YES' if outcome.traceback else 'no':9} | "
              f"{last_line(told(outcome).replace(temp + '/', ''))} |", flush=True)


if __name__ == "__main__":
    main()
