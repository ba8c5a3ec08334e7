"""Never crash, never lose a file: every kind of bad input, end to end through the command line.

Each test scans a directory holding one bad input next to a good transcript
(`neighbour.txt`, one hit of the probe pattern at line 5, column 10) and
asserts exactly what happens to the bad one (skipped with which reason, or
read with which notice), that the neighbour still counts, and that every file
seen is accounted for: `files_scanned + files_skipped` is the number of files
(archive members, and archives that cannot be read to their end, count as
files), plus `errors` for requested paths that cannot be read at all.
"""

from __future__ import annotations

import bz2
import errno
import gzip
import io
import json
import lzma
import os
import signal
import stat
import subprocess
import sys
import tarfile
import time
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
import zstandard
from click.testing import CliRunner
from mock_environment import mock_environment

from backrooms_scan import walk
from backrooms_scan.cli import load_sets, main
from backrooms_scan.commands import ScanRequest, execute
from backrooms_scan.limits import GiB, KiB, Limits, MiB, default_limits

ROOT = Path(__file__).resolve().parent.parent
BAD = ROOT / "tests" / "fixtures" / "bad"
PROBE = BAD / "probe.yaml"

NEIGHBOUR = """\
### Claude 1 ###
is anyone there

### Claude 2 ###
only the lantern hums beside the broken file
"""
NEIGHBOUR_HIT = ("neighbour.txt", 5, 10)


@dataclass
class Scan:
    """One CLI run, with paths shown relative to the scanned directory."""

    exit_code: int
    summary: dict
    stderr_lines: list[str]

    @property
    def skipped(self) -> dict[str, str]:
        return {entry["path"]: entry["reason"] for entry in self.summary["skipped"]}

    @property
    def hits(self) -> list[tuple[str, int, int]]:
        return [(hit["path"], hit["line"], hit["column"]) for hit in self.summary["hits"]]

    @property
    def files_seen(self) -> int:
        return self.summary["files_scanned"] + self.summary["files_skipped"]


def scan(*paths: Path | str, base: Path, extra: tuple[str, ...] = ()) -> Scan:
    """`scan PATHS -p probe.yaml -f json --hits`; `base/` is cut from every path shown."""
    args = ["scan", *map(str, paths), "-p", str(PROBE), "-f", "json", "--hits", "-j", "1", *extra]
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    return shown_relative(result.exit_code, result.stdout, result.stderr, base)


def shown_relative(status: int, stdout: str, stderr: str, base: Path) -> Scan:
    prefix = f"{base}{os.sep}"
    summary = json.loads(stdout.replace(json.dumps(prefix)[1:-1], ""))
    return Scan(status, summary, stderr.replace(prefix, "").splitlines())


def scan_with_limits(directory: Path, limits: Limits) -> Scan:
    """As `scan`, reading by `limits` instead of the shipped ones (no option sets them)."""
    env = mock_environment()
    args = [str(directory), "-p", str(PROBE), "-f", "json", "--hits", "-j", "1"]
    with main.commands["scan"].make_context("scan", args) as context:
        options = dict(context.params)
    sets = load_sets(options.pop("pattern_paths"), options.pop("set_names"))
    request = ScanRequest.from_cli(list(options.pop("paths")), sets, options, env)
    status = execute(replace(request, scan=replace(request.scan, limits=limits)), env)
    return shown_relative(status, env.stdout.getvalue(), env.stderr.getvalue(), directory)


def with_neighbour(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "neighbour.txt").write_text(NEIGHBOUR, encoding="utf-8")
    return directory


def dir_with(tmp_path: Path, name: str, data: bytes) -> Path:
    """A directory holding the neighbour and `name` with content `data`."""
    directory = with_neighbour(tmp_path / "dump")
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return directory


def scan_dir_with(tmp_path: Path, name: str, data: bytes, *extra: str) -> Scan:
    """Scan a directory holding the neighbour and `name` with content `data`."""
    directory = dir_with(tmp_path, name, data)
    return scan(directory, base=directory, extra=extra)


def transcript(hit_line: str, newline: str = "\n") -> str:
    """A fork log whose fifth line is `hit_line`."""
    return newline.join(["### Claude 1 ###", "a second speaker answers", "",
                         "### Claude 2 ###", hit_line, ""])


# --- JSON -------------------------------------------------------------------------------------

def test_truncated_json_is_skipped_with_where_it_stops(tmp_path):
    result = scan_dir_with(tmp_path, "bad.json", (BAD / "truncated.json").read_bytes())
    assert result.skipped == {"bad.json": "invalid JSON: Unterminated string starting at "
                                          "line 4 column 38"}
    assert result.stderr_lines == [("backrooms-scan: skipped bad.json: invalid JSON: "
                                    "Unterminated string starting at line 4 column 38")]
    assert result.hits == [NEIGHBOUR_HIT]
    assert (result.exit_code, result.summary["files_scanned"], result.files_seen) == (0, 1, 2)


def test_malformed_json_is_skipped_with_the_parse_error(tmp_path):
    result = scan_dir_with(tmp_path, "bad.json", (BAD / "malformed.json").read_bytes())
    assert result.skipped == {
        "bad.json": "invalid JSON: Expecting ',' delimiter at line 3 column 21"}
    assert result.hits == [NEIGHBOUR_HIT]
    assert (result.exit_code, result.summary["files_scanned"], result.files_seen) == (0, 1, 2)


def test_bad_jsonl_line_is_a_notice_and_the_good_lines_still_count(tmp_path):
    result = scan_dir_with(tmp_path, "bad.jsonl", (BAD / "bad_middle_line.jsonl").read_bytes())
    assert result.skipped == {}
    assert result.stderr_lines == [("backrooms-scan: bad.jsonl:2: invalid JSON "
                                    "(Unterminated string starting at column 43)")]
    # A JSONL message written without escapes is placed exactly: line and column of the hit.
    lines = (BAD / "bad_middle_line.jsonl").read_text().splitlines()
    assert result.hits == [("bad.jsonl", 1, lines[0].index("lantern hums") + 1),
                           ("bad.jsonl", 3, lines[2].index("lantern hums") + 1), NEIGHBOUR_HIT]
    assert result.summary["conversations"] == 3
    assert (result.exit_code, result.summary["files_scanned"], result.files_seen) == (0, 2, 2)


# --- bytes that are not text, or odd text ----------------------------------------------------

@pytest.mark.parametrize("data", [
    b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4,
    b"SQLite format 3\x00" + b"\x00" * 1000,
    bytes(range(256)) * 40,
], ids=["png", "sqlite", "all-bytes"])
def test_binary_file_is_skipped(tmp_path, data):
    result = scan_dir_with(tmp_path, "bad.txt", data)
    assert result.skipped == {"bad.txt": "binary file"}
    assert result.stderr_lines == ["backrooms-scan: skipped bad.txt: binary file"]
    assert result.hits == [NEIGHBOUR_HIT]
    assert (result.exit_code, result.files_seen) == (0, 2)


def test_nul_bytes_in_a_transcript_are_replaced_with_a_notice(tmp_path):
    data = transcript("\x00\x00 and yet the lantern hums").encode()
    result = scan_dir_with(tmp_path, "bad.txt", data)
    assert result.skipped == {}
    assert result.stderr_lines == ["backrooms-scan: bad.txt:5: 2 NUL bytes replaced with U+FFFD"]
    # Each NUL became one U+FFFD: the columns after them do not move.
    assert result.hits == [("bad.txt", 5, 16), NEIGHBOUR_HIT]
    assert (result.exit_code, result.summary["files_scanned"], result.files_seen) == (0, 2, 2)


def test_invalid_utf8_is_decoded_with_replacement_and_a_notice(tmp_path):
    data = transcript("odd \udcff\udcfe bytes, then the lantern hums").encode(
        "utf-8", "surrogateescape")
    result = scan_dir_with(tmp_path, "bad.txt", data)
    assert result.skipped == {}
    assert result.stderr_lines == [("backrooms-scan: bad.txt:5: invalid UTF-8 at byte 64 "
                                    "(line 5); decoded with replacement, 2 bad bytes")]
    # One U+FFFD per bad byte: "odd ��" is 6 characters, the hit starts at character 24.
    assert result.hits == [("bad.txt", 5, 24), NEIGHBOUR_HIT]
    assert result.summary["files_scanned"] == 2


@pytest.mark.parametrize("encoding,bom", [
    ("utf-16-le", "\ufeff"), ("utf-16-be", "\ufeff"), ("utf-16-le", ""), ("utf-16-be", ""),
])
def test_utf16_with_or_without_bom_is_read_as_text(tmp_path, encoding, bom):
    data = (bom + transcript("only the lantern hums in sixteen bits")).encode(encoding)
    result = scan_dir_with(tmp_path, "wide.txt", data)
    assert (result.skipped, result.stderr_lines) == ({}, [])
    assert result.hits == [NEIGHBOUR_HIT, ("wide.txt", 5, 10)]
    assert (result.exit_code, result.summary["files_scanned"]) == (0, 2)


@pytest.mark.parametrize("newline", ["\r\n", "\r"], ids=["crlf", "lone-cr"])
def test_crlf_and_lone_cr_keep_line_numbers(tmp_path, newline):
    data = transcript("only the lantern hums at the end of the line", newline).encode()
    result = scan_dir_with(tmp_path, "dos.txt", data)
    assert (result.skipped, result.stderr_lines) == ({}, [])
    assert result.hits == [("dos.txt", 5, 10), NEIGHBOUR_HIT]


def test_mixed_line_ends_count_one_line_per_break(tmp_path):
    data = b"### Claude 1 ###\r\nfirst\rsecond\n\r\n### Claude 2 ###\rthird\r\nthe lantern hums\n"
    result = scan_dir_with(tmp_path, "mixed.txt", data)
    assert result.hits == [("mixed.txt", 7, 5), NEIGHBOUR_HIT]


@pytest.mark.parametrize("data", [b"", b" \r\n\t\n", b"\xef\xbb\xbf"],
                         ids=["zero-bytes", "whitespace", "bom-only"])
def test_empty_file_is_skipped(tmp_path, data):
    result = scan_dir_with(tmp_path, "empty.txt", data)
    assert result.skipped == {"empty.txt": "empty file"}
    assert result.hits == [NEIGHBOUR_HIT]
    assert (result.exit_code, result.files_seen) == (0, 2)


# --- large files --------------------------------------------------------------------------------

LARGE = 20 * 1024 * 1024
# Resident memory a scan may add per byte of one large ASCII file: the bytes, their text,
# one copy for decoding and one for folding, with room for the allocator.
MEMORY_PER_BYTE = 16
MEASURE = """
import resource, sys
from backrooms_scan.cli import main
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    main(sys.argv[1:])
finally:
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    print(f"grown_kib={grown}", file=sys.stderr)
"""


def scan_measuring_memory(path: Path) -> tuple[dict, int]:
    """The JSON summary of a scan in a fresh process, and how much its peak memory grew."""
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, "scan", str(path), "-p", str(PROBE), "-f", "json",
         "--hits", "-j", "1"],
        capture_output=True, check=False, env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=120,
    )
    assert b"Traceback" not in done.stderr, done.stderr.decode()
    grown_kib = int(done.stderr.decode().rsplit("grown_kib=", 1)[1])
    return json.loads(done.stdout), grown_kib * 1024


def test_large_file_without_a_newline_is_scanned_in_bounded_memory(tmp_path):
    filler = "the corridor goes on " * (LARGE // 21)
    document = {"messages": [{"role": "user", "content": filler},
                             {"role": "assistant", "content": "and the lantern hums"}]}
    path = tmp_path / "minified.json"
    path.write_text(json.dumps(document), encoding="ascii")
    assert b"\n" not in path.read_bytes()
    summary, grown = scan_measuring_memory(path)
    column = path.read_text(encoding="ascii").index("lantern hums") + 1
    assert [(h["line"], h["column"], h["turn"]) for h in summary["hits"]] == [(1, column, 2)]
    assert summary["files_scanned"] == 1
    assert grown < MEMORY_PER_BYTE * LARGE, f"{grown >> 20} MiB for a {LARGE >> 20} MiB file"


def test_hit_inside_a_huge_turn_is_found_in_bounded_memory(tmp_path):
    size = 8 * 1024 * 1024
    path = tmp_path / "one_long_turn.txt"
    path.write_text("### Claude 1 ###\n" + "x" * size + " the lantern hums", encoding="ascii")
    summary, grown = scan_measuring_memory(path)
    assert [(h["line"], h["column"]) for h in summary["hits"]] == [(2, size + 6)]
    assert grown < MEMORY_PER_BYTE * size, f"{grown >> 20} MiB for a {size >> 20} MiB turn"


# --- the file system ------------------------------------------------------------------------------

def test_directory_named_like_a_file_is_walked(tmp_path):
    directory = with_neighbour(tmp_path / "dump")
    (directory / "x.txt").mkdir()
    (directory / "x.txt" / "inner.txt").write_text(transcript("only the lantern hums within"))
    result = scan(directory, base=directory)
    assert (result.skipped, result.stderr_lines) == ({}, [])
    assert result.hits == [NEIGHBOUR_HIT, ("x.txt/inner.txt", 5, 10)]
    assert (result.exit_code, result.summary["files_scanned"]) == (0, 2)


def write_latin1_named(directory: Path) -> bytes:
    """A transcript named `café.txt` in Latin-1, as old dumps may be: not valid UTF-8."""
    name = os.path.join(os.fsencode(directory), b"caf\xe9.txt")
    with open(name, "wb") as file:
        file.write(transcript("only the lantern hums in latin-1").encode())
    return name


@pytest.mark.parametrize("output_format", ["json", "jsonl", "plain", "csv", "grep"])
def test_file_name_that_is_not_utf8_is_scanned_and_shown_escaped(tmp_path, output_format):
    directory = with_neighbour(tmp_path / "dump")
    write_latin1_named(directory)
    by_file = ["--by", "file"] if output_format in ("json", "jsonl", "plain") else []  # csv, grep: none
    result = CliRunner().invoke(main, ["scan", str(directory), "-p", str(PROBE), "-j", "1",
                                       *by_file, "-f", output_format],
                                catch_exceptions=False)
    assert result.exit_code == 0
    # Shown as stderr shows it; in JSON `\udce9` is the escape of the same (surrogate) name.
    assert "caf\\udce9.txt" in result.stdout


def test_file_name_that_is_not_utf8_round_trips_through_a_json_report(tmp_path):
    directory = with_neighbour(tmp_path / "dump")
    name = write_latin1_named(directory)
    out = tmp_path / "report.json"
    result = CliRunner().invoke(main, ["scan", str(directory), "-p", str(PROBE), "-j", "1",
                                       "-f", "json", "--hits", "-o", str(out)])
    assert result.exit_code == 0
    paths = [hit["path"] for hit in json.loads(out.read_text(encoding="utf-8"))["hits"]]
    assert [os.fsencode(path) for path in paths] == [name, os.fsencode(directory / "neighbour.txt")]


def test_symlink_loop_is_skipped_once(tmp_path):
    directory = with_neighbour(tmp_path / "dump")
    (directory / "sub").mkdir()
    (directory / "sub" / "up").symlink_to("..")
    (directory / "self").symlink_to("self")
    (directory / "dangling").symlink_to("nowhere")
    result = scan(directory, base=directory)
    assert result.skipped == {
        "dangling": "broken symlink",
        "self": "unreadable: too many levels of symbolic links",
        "sub/up": "symlink loop",
    }
    assert result.hits == [NEIGHBOUR_HIT]
    assert (result.exit_code, result.summary["files_scanned"], result.files_seen) == (0, 1, 4)


@pytest.fixture
def permissions_enforced(monkeypatch):
    """Opening a file without read permission fails, even for root (tests run as root)."""
    real_open = walk._open_binary

    def open_like_a_user(path):
        if not os.stat(path).st_mode & stat.S_IRUSR:
            raise PermissionError(errno.EACCES, "Permission denied", path)
        return real_open(path)

    monkeypatch.setattr(walk, "_open_binary", open_like_a_user)


def unreadable_file(directory: Path) -> Path:
    secret = directory / "secret.txt"
    secret.write_text(transcript("only the lantern hums in secret"))
    secret.chmod(0)
    return secret


def test_unreadable_file_in_a_directory_is_skipped(tmp_path, permissions_enforced):
    directory = with_neighbour(tmp_path / "dump")
    unreadable_file(directory)
    result = scan(directory, base=directory)
    assert result.skipped == {"secret.txt": "unreadable: permission denied"}
    assert result.stderr_lines == [("backrooms-scan: skipped secret.txt: unreadable: "
                                    "permission denied")]
    assert result.hits == [NEIGHBOUR_HIT]
    assert (result.exit_code, result.summary["errors"], result.files_seen) == (0, 0, 2)


def test_unreadable_requested_file_is_an_error_and_the_rest_is_scanned(
        tmp_path, permissions_enforced):
    directory = with_neighbour(tmp_path / "dump")
    secret = unreadable_file(directory)
    result = scan(secret, directory / "neighbour.txt", base=directory)
    assert result.stderr_lines == ["backrooms-scan: secret.txt: permission denied"]
    assert result.hits == [NEIGHBOUR_HIT]
    assert (result.exit_code, result.summary["errors"], result.files_seen) == (2, 1, 1)


def test_nonexistent_requested_path_exits_2_and_the_rest_is_scanned(tmp_path):
    directory = with_neighbour(tmp_path / "dump")
    result = scan(directory / "missing.txt", directory, base=directory)
    assert result.stderr_lines == ["backrooms-scan: missing.txt: no such file or directory"]
    assert result.hits == [NEIGHBOUR_HIT]
    assert (result.exit_code, result.summary["errors"], result.files_seen) == (2, 1, 1)


# --- compression and archives ---------------------------------------------------------------------

PAYLOAD = transcript("only the lantern hums compressed").encode() * 200


def half(data: bytes) -> bytes:
    return data[: len(data) // 2]


@pytest.mark.parametrize("name,data,reason", [
    ("cut.txt.gz", half(gzip.compress(PAYLOAD)),
     "broken gzip stream: Compressed file ended before the end-of-stream marker was reached"),
    ("garbage.txt.gz", b"\x1f\x8b" + b"not deflate at all" * 4,
     "broken gzip stream: Unknown compression method"),
    ("cut.txt.xz", half(lzma.compress(PAYLOAD)),
     "broken xz stream: Compressed file ended before the end-of-stream marker was reached"),
    ("cut.txt.bz2", half(bz2.compress(PAYLOAD)),
     "broken bz2 stream: Compressed file ended before the end-of-stream marker was reached"),
    ("cut.txt.zst", half(zstandard.compress(PAYLOAD)),
     "broken zstd stream: zstd stream ended in the middle of a frame"),
], ids=["gzip-cut", "gzip-garbage", "xz-cut", "bz2-cut", "zstd-cut"])
def test_broken_compressed_stream_is_skipped(tmp_path, name, data, reason):
    result = scan_dir_with(tmp_path, name, data)
    assert result.skipped == {name: reason}
    assert result.hits == [NEIGHBOUR_HIT]
    assert (result.exit_code, result.files_seen) == (0, 2)


def test_corrupt_gzip_deep_inside_skips_the_whole_file(tmp_path):
    data = bytearray(gzip.compress(PAYLOAD * 50))
    data[len(data) // 2] ^= 0xFF
    result = scan_dir_with(tmp_path, "flipped.txt.gz", bytes(data))
    assert list(result.skipped) == ["flipped.txt.gz"]
    assert result.skipped["flipped.txt.gz"].startswith("broken gzip stream: ")
    assert result.hits == [NEIGHBOUR_HIT]
    assert result.files_seen == 2


def test_file_that_is_not_a_zip_is_skipped_as_a_broken_archive(tmp_path):
    result = scan_dir_with(tmp_path, "fake.zip", b"PK\x03\x04" + b"garbage" * 20)
    assert result.skipped == {"fake.zip": "broken archive: File is not a zip file"}
    assert result.hits == [NEIGHBOUR_HIT]
    assert (result.exit_code, result.files_seen) == (0, 2)


def zip_of(members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_corrupt_zip_member_is_skipped_and_the_others_are_read(tmp_path):
    good = transcript("only the lantern hums, zipped").encode()
    corrupt = transcript("this member gets a bad byte " * 20).encode()
    data = bytearray(zip_of({"a.txt": good, "b.txt": corrupt, "c.txt": good.replace(b"zip", b"zap")},
                            zipfile.ZIP_STORED))
    data[data.index(b"bad byte") + 2] ^= 0x01
    result = scan_dir_with(tmp_path, "dump.zip", bytes(data))
    assert result.skipped == {"dump.zip!b.txt": "broken archive: Bad CRC-32 for file 'b.txt'"}
    assert result.hits == [("dump.zip!a.txt", 5, 10), ("dump.zip!c.txt", 5, 10), NEIGHBOUR_HIT]
    assert (result.exit_code, result.summary["files_scanned"], result.files_seen) == (0, 3, 4)


def tar_of(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_truncated_tar_reports_the_cut_member_and_the_archive(tmp_path):
    first = transcript("only the lantern hums before the cut").encode()
    data = tar_of({"first.txt": first, "cut.txt": PAYLOAD, "lost.txt": first})
    cut_at = 512 + 1024 + 512 + 1000  # inside cut.txt's data
    result = scan_dir_with(tmp_path, "dump.tar", data[:cut_at])
    # The member read short, and the archive, which cannot be read to its end.
    assert result.skipped == {"dump.tar!cut.txt": "broken archive: unexpected end of data",
                              "dump.tar": "broken archive: unexpected end of data"}
    assert result.hits == [("dump.tar!first.txt", 5, 10), NEIGHBOUR_HIT]
    assert (result.exit_code, result.summary["files_scanned"], result.files_seen) == (0, 2, 4)


def snapshot(directory: Path) -> list[tuple[str, int]]:
    return sorted((str(p.relative_to(directory)), p.stat().st_size)
                  for p in directory.rglob("*") if not p.is_symlink())


@pytest.mark.parametrize("kind", ["zip", "tar"])
def test_members_named_with_dot_dot_are_read_and_nothing_is_written(tmp_path, monkeypatch, kind):
    members = {"../../escape.txt": transcript("only the lantern hums, escaping").encode(),
               "/absolute.txt": transcript("only the lantern hums, absolutely").encode()}
    archive = zip_of(members) if kind == "zip" else tar_of(members)
    directory = with_neighbour(tmp_path / "deep" / "dump")
    (directory / f"evil.{kind}").write_bytes(archive)
    monkeypatch.chdir(directory)
    parent_before = snapshot(tmp_path.parent)
    result = scan(directory, base=directory)
    assert result.hits == [(f"evil.{kind}!../../escape.txt", 5, 10),
                           (f"evil.{kind}!/absolute.txt", 5, 10), NEIGHBOUR_HIT]
    assert (result.skipped, result.summary["files_scanned"]) == ({}, 3)
    assert snapshot(tmp_path.parent) == parent_before
    assert not Path("/absolute.txt").exists()


# --- decompression bombs: Limits.max_size, Limits.max_ratio past Limits.ratio_after ---------------

ONE_MIB = Limits(max_size=1 * MiB)
BOMB = b"### Claude 1 ###\n" + b"the lantern hums and hums\n" * 400_000  # 10 MB, ~25 KB gzipped


def test_bomb_beyond_the_size_limit_is_skipped(tmp_path):
    result = scan_with_limits(dir_with(tmp_path, "bomb.txt.gz", gzip.compress(BOMB)), ONE_MIB)
    assert result.skipped == {"bomb.txt.gz": "decompressed size exceeds limit (1 MiB)"}
    assert result.stderr_lines == [
        "backrooms-scan: skipped bomb.txt.gz: decompressed size exceeds limit (1 MiB)"]
    assert result.hits == [NEIGHBOUR_HIT]
    assert (result.exit_code, result.files_seen) == (0, 2)


def test_bomb_beyond_the_expansion_ratio_is_skipped(tmp_path):
    limits = Limits(max_ratio=100, ratio_after=256 * KiB)
    result = scan_with_limits(dir_with(tmp_path, "bomb.txt.xz", lzma.compress(BOMB)), limits)
    assert result.skipped == {"bomb.txt.xz": "decompressed size exceeds limit (more than 100 "
                                             "times the compressed size past 256 KiB)"}
    assert result.hits == [NEIGHBOUR_HIT]


def test_bomb_inside_a_zip_skips_only_that_member(tmp_path):
    good = transcript("only the lantern hums beside the bomb").encode()
    data = zip_of({"a.txt": good, "bomb.txt": BOMB})
    result = scan_with_limits(dir_with(tmp_path, "dump.zip", data), ONE_MIB)
    assert result.skipped == {"dump.zip!bomb.txt": "decompressed size exceeds limit (1 MiB)"}
    assert result.hits == [("dump.zip!a.txt", 5, 10), NEIGHBOUR_HIT]
    assert result.files_seen == 3


def test_bomb_inside_a_compressed_tar_skips_only_that_member(tmp_path):
    good = transcript("only the lantern hums beside the bomb").encode()
    data = gzip.compress(tar_of({"a.txt": good, "bomb.txt": BOMB, "c.txt": good.upper()}))
    result = scan_with_limits(dir_with(tmp_path, "dump.tar.gz", data), ONE_MIB)
    assert result.skipped == {"dump.tar.gz!bomb.txt": "decompressed size exceeds limit (1 MiB)"}
    assert result.hits == [("dump.tar.gz!a.txt", 5, 10), ("dump.tar.gz!c.txt", 5, 10),
                           NEIGHBOUR_HIT]
    assert result.files_seen == 4


def test_default_limits_are_the_module_constants():
    assert default_limits() == Limits(4 * GiB, 1000, 64 * MiB)


# --- hostile pattern files -------------------------------------------------------------------------

def python_tag_pattern_file(tmp_path: Path) -> tuple[Path, Path]:
    marker = tmp_path / "executed"
    path = tmp_path / "evil.yaml"
    path.write_text("name: evil\npatterns:\n  - id: x\n"
                    f"    phrases: [!!python/object/apply:os.system [\"touch {marker}\"]]\n")
    return path, marker


def test_python_tag_is_refused_by_patterns_check(tmp_path):
    path, marker = python_tag_pattern_file(tmp_path)
    result = CliRunner().invoke(main, ["patterns", "check", str(path)])
    assert result.exit_code == 2
    assert result.stdout == (f"{path}:4:15: tag '!!python/object/apply:os.system' "
                             "is not allowed in pattern files\n")
    assert not marker.exists()


def test_python_tag_stops_a_scan_before_anything_runs(tmp_path):
    path, marker = python_tag_pattern_file(tmp_path)
    directory = with_neighbour(tmp_path / "dump")
    result = CliRunner().invoke(main, ["scan", str(directory), "-p", str(path)])
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (f"backrooms-scan: {path}:4:15: tag '!!python/object/apply:os.system' "
                             "is not allowed in pattern files\n")
    assert not marker.exists()


def test_yaml_alias_bomb_is_refused_without_expanding_it():
    checked = CliRunner().invoke(main, ["patterns", "check", str(BAD / "alias_bomb.yaml")])
    scanned = CliRunner().invoke(main, ["scan", str(BAD), "-p", str(BAD / "alias_bomb.yaml")])
    first_error = f"{BAD / 'alias_bomb.yaml'}:3:5: aliases (&/*) are not allowed in pattern files"
    assert checked.exit_code == 2
    assert checked.stdout.splitlines()[0] == first_error
    assert (scanned.exit_code, scanned.stdout) == (2, "")
    assert scanned.stderr.splitlines()[0] == f"backrooms-scan: {first_error}"
    assert scanned.stderr.splitlines() == [f"backrooms-scan: {line}"
                                           for line in checked.stdout.splitlines()]


# --- the report file when a scan is interrupted -------------------------------------------------------

def interrupt_after(monkeypatch, target, name, calls):
    """Make `target.name` raise KeyboardInterrupt once it has been called `calls` times."""
    real = getattr(target, name)
    count = []

    def interrupted(*args, **kwargs):
        if len(count) == calls:
            raise KeyboardInterrupt
        count.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(target, name, interrupted)


def test_interrupted_scan_writes_its_partial_result_to_the_output_file(tmp_path, monkeypatch):
    from backrooms_scan import scan as scan_module

    out = tmp_path / "report.json"
    out.write_text("yesterday's report\n")
    interrupt_after(monkeypatch, scan_module.Scanner, "iter_input", 2)
    result = CliRunner().invoke(main, ["scan", "--sample", "-j", "1", "-f", "json", "-o", str(out)])
    assert result.exit_code == 130
    assert result.stderr.splitlines()[-1] == (
        f"backrooms-scan: interrupted; the counts written to {out} are partial")
    written = json.loads(out.read_text())
    assert (written["partial"], written["files_scanned"]) == (True, 2)
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


def test_a_signal_whose_exception_some_code_swallowed_still_ends_the_scan_as_interrupted(
        tmp_path, monkeypatch):
    from backrooms_scan import scan as scan_module

    real = scan_module.Scanner.iter_input
    started = []

    def swallowing(self, *args, **kwargs):
        started.append(True)
        if len(started) == 2:
            try:
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(5)  # the handler raises here, at once
            except KeyboardInterrupt:
                pass  # as Python does with an exception raised inside a finalizer
        yield from real(self, *args, **kwargs)

    monkeypatch.setattr(scan_module.Scanner, "iter_input", swallowing)
    out = tmp_path / "report.json"
    result = CliRunner().invoke(main, ["scan", "--sample", "-j", "1", "-f", "json", "-o", str(out)])
    assert result.exit_code == 130
    assert result.stderr.splitlines()[-1] == (
        f"backrooms-scan: interrupted; the counts written to {out} are partial")
    written = json.loads(out.read_text())
    assert (written["partial"], written["files_scanned"]) == (True, 1)


def test_a_signal_raised_inside_a_finalizer_is_not_reported_but_other_errors_are(monkeypatch):
    from backrooms_scan import interrupt

    reported = []
    monkeypatch.setattr(sys, "unraisablehook", lambda unraisable: reported.append(
        type(unraisable.exc_value).__name__))

    def finishing_with(error: BaseException):
        try:
            yield
        finally:
            raise error

    with interrupt.armed():
        for error in (interrupt.Interrupted(signal.SIGINT), ValueError("a real bug")):
            generator = finishing_with(error)
            next(generator)
            del generator  # closed as it is freed: Python can only report what it raises
    assert reported == ["ValueError"]


def test_interrupt_while_writing_the_report_leaves_no_file(tmp_path, monkeypatch):
    from backrooms_scan.report.json_summary import JsonReporter

    out = tmp_path / "report.json"

    def half_written(self, tally, summary, footer):
        self.out.write('{"schema_version": 1, "files_sc')
        raise KeyboardInterrupt

    monkeypatch.setattr(JsonReporter, "finish", half_written)
    result = CliRunner().invoke(main, ["scan", "--sample", "-j", "1", "-f", "json", "-o", str(out)])
    assert result.exit_code == 130
    assert result.stderr.splitlines()[-1] == f"backrooms-scan: interrupted; nothing written to {out}"
    assert list(tmp_path.iterdir()) == []
