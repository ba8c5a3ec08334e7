"""walk: what the user names -> Inputs, Skipped and PathErrors, in a fixed order."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import struct
import tarfile
import threading
import time
import tracemalloc
import zipfile
from pathlib import Path

import pytest
import zstandard

from backrooms_scan import walk
from backrooms_scan.compression import strip_compression_suffix
from backrooms_scan.inputs import Input, PathError, Skipped
from backrooms_scan.limits import Limits, default_limits
from backrooms_scan.streams import BrokenInput, InputTooLarge, read_whole
from backrooms_scan.walk import Found, inputs_of, iter_files, iter_inputs

FIXTURES = Path(__file__).parent / "fixtures" / "walk"


def summary(items) -> list:
    """Each item as a comparable tuple; Inputs are opened and read in order, as required."""
    out = []
    for item in items:
        if isinstance(item, Input):
            with item.open() as stream:
                out.append((item.path, item.name, stream.read()))
        else:
            out.append(item)
    return out


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def make_tar(path: Path, mode: str, members: list[tarfile.TarInfo | tuple[str, bytes]]) -> Path:
    with tarfile.open(path, mode) as archive:
        for member in members:
            if isinstance(member, tarfile.TarInfo):
                archive.addfile(member)
            else:
                info = tarfile.TarInfo(member[0])
                info.size = len(member[1])
                archive.addfile(info, io.BytesIO(member[1]))
    return path


# --- directories ---------------------------------------------------------------


def test_directory_is_walked_depth_first_in_name_order_with_files_and_dirs_interleaved(
    monkeypatch,
):
    monkeypatch.chdir(FIXTURES)
    assert summary(iter_inputs(["tree"])) == [
        ("tree/.hidden.txt", ".hidden.txt", b"hidden\n"),
        ("tree/B.txt", "B.txt", b"capital B\n"),
        ("tree/a.txt", "a.txt", b"small a\n"),
        ("tree/notes.txt/inner.txt", "inner.txt", b"inside a directory named like a file\n"),
        ("tree/sub/c.txt", "c.txt", b"c\n"),
        ("tree/sub/deeper/d.txt", "d.txt", b"d\n"),
        ("tree/z.txt", "z.txt", b"z\n"),
    ]


def test_requested_paths_come_in_the_order_given_and_keep_their_spelling(monkeypatch):
    monkeypatch.chdir(FIXTURES)
    paths = [item.path for item in iter_inputs(["tree/z.txt", "tree/sub/", "./tree/a.txt"])]
    assert paths == ["tree/z.txt", "tree/sub/c.txt", "tree/sub/deeper/d.txt", "./tree/a.txt"]


def test_directory_named_like_a_file_is_walked_not_opened(monkeypatch):
    monkeypatch.chdir(FIXTURES)
    assert [item.path for item in iter_inputs(["tree/notes.txt"])] == ["tree/notes.txt/inner.txt"]


def test_plain_file_input_knows_its_size():
    (item,) = iter_inputs([str(FIXTURES / "tree" / "B.txt")])
    assert (item.name, item.size) == ("B.txt", 10)


def test_git_directories_are_not_walked_but_other_hidden_entries_are(tmp_path):
    write(tmp_path / ".git" / "HEAD", b"ref: refs/heads/main\n")
    write(tmp_path / ".config" / "notes.txt", b"n\n")
    write(tmp_path / "a.txt", b"a\n")
    assert [item.path for item in iter_inputs([str(tmp_path)])] == [
        f"{tmp_path}/.config/notes.txt",
        f"{tmp_path}/a.txt",
    ]


def test_symlink_loop_ends_the_walk_and_each_file_is_seen_once(tmp_path, monkeypatch):
    write(tmp_path / "root" / "a" / "f.txt", b"f\n")
    write(tmp_path / "root" / "g.txt", b"g\n")
    (tmp_path / "root" / "a" / "back").symlink_to(tmp_path / "root")
    monkeypatch.chdir(tmp_path)
    assert summary(iter_inputs(["root"])) == [
        Skipped("root/a/back", "symlink loop"),
        ("root/a/f.txt", "f.txt", b"f\n"),
        ("root/g.txt", "g.txt", b"g\n"),
    ]


def test_directory_reached_again_through_a_symlink_is_not_walked_twice(tmp_path, monkeypatch):
    write(tmp_path / "a" / "f.txt", b"f\n")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    monkeypatch.chdir(tmp_path)
    assert summary(iter_inputs(["."])) == [
        ("./a/f.txt", "f.txt", b"f\n"),
        Skipped("./b", "already walked as ./a"),
    ]


def test_broken_symlink_in_a_directory_is_skipped(tmp_path, monkeypatch):
    (tmp_path / "gone.txt").symlink_to(tmp_path / "missing.txt")
    monkeypatch.chdir(tmp_path)
    assert list(iter_inputs(["."])) == [Skipped("./gone.txt", "broken symlink")]


def test_fifo_met_in_a_directory_is_skipped_without_reading_it(tmp_path, monkeypatch):
    os.mkfifo(tmp_path / "pipe")
    monkeypatch.chdir(tmp_path)
    assert list(iter_inputs(["."])) == [Skipped("./pipe", "not a regular file")]


def test_requested_fifo_is_read_once_as_a_stream(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    writer = threading.Thread(
        target=fifo.write_bytes, args=(gzip.compress(b"piped\n"),), daemon=True
    )
    writer.start()
    items = iter_inputs([str(fifo)])
    item = next(items)
    assert (item.path, item.name, item.size) == (str(fifo), "pipe", None)
    assert item.open().read() == b"piped\n"
    with pytest.raises(RuntimeError, match="can be opened only once"):
        item.open()
    assert list(items) == []
    writer.join(5)


def test_nonexistent_requested_path_is_a_path_error_and_the_walk_goes_on(monkeypatch):
    monkeypatch.chdir(FIXTURES)
    assert summary(iter_inputs(["missing.txt", "tree/z.txt"])) == [
        PathError("missing.txt", "no such file or directory"),
        ("tree/z.txt", "z.txt", b"z\n"),
    ]


def refuse_to_open(monkeypatch, refused: str) -> None:
    """Stands in for chmod 000, which does not stop root (the tests may run as root)."""
    real_open = open

    def fake_open(path, *args, **kwargs):
        if os.path.basename(str(path)) == refused:
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(walk, "open", fake_open, raising=False)


def test_unreadable_file_in_a_directory_is_skipped_and_the_walk_goes_on(tmp_path, monkeypatch):
    write(tmp_path / "a.txt", b"a\n")
    write(tmp_path / "b.txt", b"b\n")
    refuse_to_open(monkeypatch, "a.txt")
    monkeypatch.chdir(tmp_path)
    assert summary(iter_inputs(["."])) == [
        Skipped("./a.txt", "unreadable: permission denied"),
        ("./b.txt", "b.txt", b"b\n"),
    ]


def test_unreadable_requested_file_is_a_path_error(tmp_path, monkeypatch):
    write(tmp_path / "a.txt", b"a\n")
    refuse_to_open(monkeypatch, "a.txt")
    monkeypatch.chdir(tmp_path)
    assert list(iter_inputs(["a.txt"])) == [PathError("a.txt", "permission denied")]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_file_with_mode_000_is_skipped_as_unreadable(tmp_path, monkeypatch):
    write(tmp_path / "locked.txt", b"x\n").chmod(0)
    monkeypatch.chdir(tmp_path)
    assert list(iter_inputs(["."])) == [Skipped("./locked.txt", "unreadable: permission denied")]


def test_iter_files_lists_files_and_archives_whole_without_opening_them(tmp_path, monkeypatch):
    write(tmp_path / "a.zip", b"not even a zip")
    write(tmp_path / "d" / "b.txt.gz", b"not gzip either")
    monkeypatch.chdir(tmp_path)
    assert [found.path if isinstance(found, Found) else found for found in iter_files(["-", ".", "nope"])] == [
        "-",
        "./a.zip",
        "./d/b.txt.gz",
        PathError("nope", "no such file or directory"),
    ]


# --- stdin ------------------------------------------------------------------------


def test_dash_reads_stdin():
    items = list(iter_inputs(["-"], stdin=io.BytesIO(b"from a pipe\n")))
    assert [(item.path, item.name, item.size) for item in items] == [("-", "-", None)]
    assert items[0].open().read() == b"from a pipe\n"


def test_compressed_stdin_is_decompressed():
    stdin = io.BytesIO(zstandard.ZstdCompressor().compress(b"zstd on stdin\n"))
    assert summary(iter_inputs(["-"], stdin=stdin)) == [("-", "-", b"zstd on stdin\n")]


def test_stdin_named_twice_is_read_once():
    items = summary(iter_inputs(["-", "-"], stdin=io.BytesIO(b"once\n")))
    assert items == [("-", "-", b"once\n"), Skipped("-", "stdin already read")]


def test_tar_on_stdin_is_streamed(tmp_path):
    tar = make_tar(tmp_path / "t.tar.gz", "w:gz", [("in/a.txt", b"a\n")])
    stdin = io.BytesIO(tar.read_bytes())
    assert summary(iter_inputs(["-"], stdin=stdin)) == [("-!in/a.txt", "a.txt", b"a\n")]


# --- compression ------------------------------------------------------------------

TEXT = b"gate gate paragate\nparasamgate bodhi svaha\n" * 50

COMPRESSIONS = [
    (".gz", gzip.compress),
    (".bz2", bz2.compress),
    (".xz", lzma.compress),
    (".lzma", lambda data: lzma.compress(data, format=lzma.FORMAT_ALONE)),
    (".zst", lambda data: zstandard.ZstdCompressor().compress(data)),
]


@pytest.mark.parametrize(("suffix", "compress"), COMPRESSIONS, ids=[s for s, _ in COMPRESSIONS])
def test_compressed_file_is_read_decompressed_under_its_plain_name(
    tmp_path, monkeypatch, suffix, compress
):
    write(tmp_path / f"notes.txt{suffix}", compress(TEXT))
    monkeypatch.chdir(tmp_path)
    (item,) = iter_inputs([f"notes.txt{suffix}"])
    assert (item.path, item.name, item.size) == (f"notes.txt{suffix}", "notes.txt", None)
    with item.open() as stream:
        assert stream.read() == TEXT


def test_compression_is_recognised_by_magic_bytes_without_a_suffix(tmp_path):
    path = write(tmp_path / "dump.log", bz2.compress(TEXT))
    assert summary(iter_inputs([str(path)])) == [(str(path), "dump.log", TEXT)]


def test_concatenated_gzip_members_and_zstd_frames_are_read_whole(tmp_path):
    gz = write(tmp_path / "a.gz", gzip.compress(b"one\n") + gzip.compress(b"two\n"))
    frame = zstandard.ZstdCompressor().compress
    zst = write(tmp_path / "b.zst", frame(b"three\n") + frame(b"four\n"))
    assert [content for _, _, content in summary(iter_inputs([str(gz), str(zst)]))] == [
        b"one\ntwo\n",
        b"three\nfour\n",
    ]


@pytest.mark.parametrize(
    ("name", "plain"),
    [
        ("a.txt.gz", "a.txt"),
        ("A.TXT.GZ", "A.TXT"),
        ("a.json.zst", "a.json"),
        ("dump.tgz", "dump.tar"),
        ("a.txt", "a.txt"),
        ("gz", "gz"),
    ],
)
def test_compression_suffix_is_removed_from_the_name(name, plain):
    assert strip_compression_suffix(name) == plain


def test_file_without_newlines_is_streamed_in_bounded_memory(tmp_path):
    # Stands in for a 100 MB single-line file: nothing in the walk reads by lines.
    size = 16 * 1024 * 1024
    path = write(tmp_path / "one_line.txt.gz", gzip.compress(b"abcdefghijklmnop" * (size // 16)))
    (item,) = iter_inputs([str(path)])
    tracemalloc.start()
    try:
        total = 0
        with item.open() as stream:
            while chunk := stream.read(64 * 1024):
                total += len(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total == size
    assert peak < 2 * 1024 * 1024


# --- broken streams -----------------------------------------------------------------

LONG_TEXT = os.urandom(200_000).hex().encode()  # incompressible enough to truncate mid-way


def first_input(path: Path, **kwargs) -> tuple[Input, object]:
    """The first Input, and the walk, which must stay alive while the Input is read."""
    items = iter_inputs([str(path)], **kwargs)
    return next(items), items


@pytest.mark.parametrize(
    ("suffix", "compress", "reason"),
    [
        (
            ".gz",
            gzip.compress,
            "broken gzip stream: Compressed file ended before the end-of-stream marker was reached",
        ),
        (
            ".bz2",
            lambda data: bz2.compress(data, 1),  # 100 kB blocks: the first one is whole
            "broken bz2 stream: Compressed file ended before the end-of-stream marker was reached",
        ),
        (
            ".xz",
            lzma.compress,
            "broken xz stream: Compressed file ended before the end-of-stream marker was reached",
        ),
        (
            ".zst",
            lambda data: zstandard.ZstdCompressor().compress(data),
            "broken zstd stream: zstd stream ended in the middle of a frame",
        ),
    ],
    ids=["gzip", "bz2", "xz", "zstd"],
)
def test_truncated_compressed_stream_raises_broken_input_when_read(
    tmp_path, suffix, compress, reason
):
    data = compress(LONG_TEXT)
    item, _walk = first_input(write(tmp_path / f"a.txt{suffix}", data[: len(data) // 2]))
    with item.open() as stream, pytest.raises(BrokenInput) as raised:
        stream.read()
    assert raised.value.reason == reason


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("a.gz", b"\x1f\x8b\x07" + b"junk" * 10, "broken gzip stream: Unknown compression method"),
        ("a.gz", b"hello, plain text\n", "broken gzip stream: Not a gzipped file (b'he')"),
        ("a.bz2", b"BZh91AY&SY" + b"junk" * 10, "broken bz2 stream: Invalid data stream"),
        ("a.xz", b"\xfd7zXZ\x00" + b"junk" * 10, "broken xz stream: Corrupt input data"),
        (
            "a.zst",
            b"\x28\xb5\x2f\xfd" + b"junk" * 10,
            "broken zstd stream: zstd decompressor error: Unsupported frame parameter",
        ),
    ],
    ids=["gzip-header", "gzip-suffix-on-text", "bz2", "xz", "zstd"],
)
def test_compressed_stream_broken_from_the_start_is_skipped(tmp_path, name, data, reason):
    path = write(tmp_path / name, data)
    assert list(iter_inputs([str(path)])) == [Skipped(str(path), reason)]


def test_stream_broken_in_the_middle_of_a_gzip_body_is_reported_with_zlib_reason(tmp_path):
    data = bytearray(gzip.compress(LONG_TEXT))
    data[len(data) // 2 : len(data) // 2 + 64] = b"\xff" * 64
    item, _walk = first_input(write(tmp_path / "a.gz", bytes(data)))
    with item.open() as stream, pytest.raises(BrokenInput, match=r"^broken gzip stream: "):
        stream.read()


# --- decompression bombs ---------------------------------------------------------------


def test_decompressed_stream_beyond_the_size_limit_raises_input_too_large(tmp_path):
    item, _walk = first_input(
        write(tmp_path / "bomb.gz", gzip.compress(b"\0" * 1_000_000)), limits=Limits(max_size=1000)
    )
    with item.open() as stream, pytest.raises(InputTooLarge) as raised:
        stream.read()
    assert raised.value.reason == "decompressed size exceeds limit (1000 bytes)"


def test_an_input_reads_by_the_limits_it_was_walked_with_else_the_shipped_ones(tmp_path):
    path = write(tmp_path / "bomb.xz", lzma.compress(b"\0" * 1_000_000))
    item, _walk = first_input(path, limits=Limits(max_size=2048))
    assert item.limits == Limits(max_size=2048)
    with item.open() as stream, pytest.raises(InputTooLarge, match=r"exceeds limit \(2 KiB\)$"):
        stream.read()
    item, _walk = first_input(path)
    assert item.limits == default_limits()
    with item.open() as stream:
        assert stream.read() == b"\0" * 1_000_000


def test_bomb_noticed_within_the_first_bytes_is_skipped(tmp_path):
    path = write(tmp_path / "bomb.bz2", bz2.compress(b"\0" * 1_000_000))
    assert list(iter_inputs([str(path)], limits=Limits(max_size=100))) == [
        Skipped(str(path), "decompressed size exceeds limit (100 bytes)")
    ]


def test_decompression_ratio_beyond_the_limit_raises_input_too_large(tmp_path):
    limits = Limits(max_size=10**9, max_ratio=100, ratio_after=1000)
    item, _walk = first_input(
        write(tmp_path / "bomb.zst", zstandard.ZstdCompressor().compress(b"\0" * 1_000_000)),
        limits=limits,
    )
    with item.open() as stream, pytest.raises(InputTooLarge) as raised:
        stream.read()
    assert raised.value.reason == (
        "decompressed size exceeds limit (more than 100 times the compressed size past 1000 bytes)"
    )


def test_ordinary_compression_ratio_passes_the_ratio_check(tmp_path):
    limits = Limits(max_size=10**9, max_ratio=100, ratio_after=1000)
    item, _walk = first_input(write(tmp_path / "text.gz", gzip.compress(LONG_TEXT)), limits=limits)
    assert item.open().read() == LONG_TEXT


def test_zip_member_beyond_the_size_limit_raises_input_too_large(tmp_path):
    with zipfile.ZipFile(tmp_path / "a.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("zeros.txt", b"\0" * 1_000_000)
    item, _walk = first_input(tmp_path / "a.zip", limits=Limits(max_size=1000))
    with item.open() as stream, pytest.raises(InputTooLarge, match=r"\(1000 bytes\)$"):
        stream.read()


def test_member_of_a_compressed_tar_larger_than_the_limit_is_skipped(tmp_path):
    tar = make_tar(tmp_path / "t.tar.gz", "w:gz", [("big.txt", b"x" * 5000), ("ok.txt", b"ok")])
    assert summary(iter_inputs([str(tar)], limits=Limits(max_size=1000))) == [
        Skipped(f"{tar}!big.txt", "decompressed size exceeds limit (1000 bytes)"),
        (f"{tar}!ok.txt", "ok.txt", b"ok"),
    ]


# --- zip -----------------------------------------------------------------------------


def test_zip_members_are_read_in_place_with_archive_display_paths(tmp_path, monkeypatch):
    with zipfile.ZipFile(tmp_path / "dump.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("inner/", b"")
        archive.writestr("inner/path.txt", b"first\n")
        archive.writestr("b.txt.gz", gzip.compress(b"compressed member\n"))
        archive.writestr("stored.txt", b"stored\n", compress_type=zipfile.ZIP_STORED)
    monkeypatch.chdir(tmp_path)
    items = [(i.path, i.name, i.size, i.open().read()) for i in iter_inputs(["dump.zip"])]
    assert items == [
        ("dump.zip!inner/path.txt", "path.txt", 6, b"first\n"),
        ("dump.zip!b.txt.gz", "b.txt", None, b"compressed member\n"),
        ("dump.zip!stored.txt", "stored.txt", 7, b"stored\n"),
    ]
    assert sorted(os.listdir(tmp_path)) == ["dump.zip"]  # nothing extracted


def test_zip_symlink_members_are_skipped_as_symlinks_not_followed(tmp_path):
    with zipfile.ZipFile(tmp_path / "a.zip", "w") as archive:
        link = zipfile.ZipInfo("link.txt")
        link.external_attr = 0o120777 << 16
        archive.writestr(link, "target.txt")
        archive.writestr("target.txt", b"t\n")
    items = list(iter_inputs([str(tmp_path / "a.zip")]))
    assert items[0] == Skipped(f"{tmp_path}/a.zip!link.txt", "symlink member")
    assert [item.path for item in items[1:]] == [f"{tmp_path}/a.zip!target.txt"]


def test_zip_member_named_with_dot_dot_is_read_and_nothing_is_written(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    with zipfile.ZipFile(work / "evil.zip", "w") as archive:
        archive.writestr("../evil.txt", b"read, never written\n")
    before = sorted(p.name for p in tmp_path.rglob("*"))
    assert summary(iter_inputs([str(work / "evil.zip")])) == [
        (f"{work}/evil.zip!../evil.txt", "evil.txt", b"read, never written\n")
    ]
    assert sorted(p.name for p in tmp_path.rglob("*")) == before == ["evil.zip", "work"]


def test_archive_inside_a_zip_is_skipped_as_nested(tmp_path):
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as archive:
        archive.writestr("deep.txt", b"deep\n")
    with zipfile.ZipFile(tmp_path / "outer.zip", "w") as archive:
        archive.writestr("inner.zip", inner.getvalue())
        archive.writestr("bundle.tar.gz", b"")
        archive.writestr("data.bin", inner.getvalue())  # a zip by its magic bytes
    assert list(iter_inputs([str(tmp_path / "outer.zip")])) == [
        Skipped(f"{tmp_path}/outer.zip!inner.zip", "nested archive"),
        Skipped(f"{tmp_path}/outer.zip!bundle.tar.gz", "nested archive"),
        Skipped(f"{tmp_path}/outer.zip!data.bin", "nested archive"),
    ]


def test_corrupted_zip_is_skipped_as_a_broken_archive(tmp_path):
    path = write(tmp_path / "x.zip", b"PK\x03\x04" + b"garbage" * 20)
    assert list(iter_inputs([str(path)])) == [
        Skipped(str(path), "broken archive: File is not a zip file")
    ]


def test_zip_member_with_a_bad_checksum_raises_broken_input(tmp_path):
    path = tmp_path / "a.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("a.txt", b"original " + LONG_TEXT)
    path.write_bytes(path.read_bytes().replace(b"original", b"tampered"))
    item, _walk = first_input(path)
    with item.open() as stream, pytest.raises(BrokenInput) as raised:
        stream.read()
    assert raised.value.reason == "broken archive: Bad CRC-32 for file 'a.txt'"


def test_small_zip_member_with_a_bad_checksum_is_skipped(tmp_path):
    path = tmp_path / "a.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("a.txt", b"original text\n")
    path.write_bytes(path.read_bytes().replace(b"original", b"tampered"))
    assert list(iter_inputs([str(path)])) == [
        Skipped(f"{path}!a.txt", "broken archive: Bad CRC-32 for file 'a.txt'")
    ]


def test_zip_from_a_compressed_stream_is_skipped(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.txt", b"a\n")
    path = write(tmp_path / "a.zip.gz", gzip.compress(buffer.getvalue()))
    assert list(iter_inputs([str(path)])) == [
        Skipped(str(path), "zip archive needs a seekable file (not a pipe or a compressed stream)")
    ]


# --- tar --------------------------------------------------------------------------------

TARS = [
    ("w", ".tar"),
    ("w:gz", ".tar.gz"),
    ("w:gz", ".tgz"),
    ("w:xz", ".tar.xz"),
    ("w:bz2", ".tar.bz2"),
]


@pytest.mark.parametrize(("mode", "suffix"), TARS, ids=[s for _, s in TARS])
def test_tar_members_are_streamed_with_archive_display_paths(tmp_path, monkeypatch, mode, suffix):
    folder = tarfile.TarInfo("inner")
    folder.type = tarfile.DIRTYPE
    link = tarfile.TarInfo("inner/link.txt")
    link.type, link.linkname = tarfile.SYMTYPE, "path.txt"
    make_tar(
        tmp_path / f"dump{suffix}",
        mode,
        [
            folder,
            ("inner/path.txt", b"first\n"),
            link,
            ("../evil.txt", b"read, never written\n"),
            ("c.txt.xz", lzma.compress(b"compressed member\n")),
        ],
    )
    monkeypatch.chdir(tmp_path)
    assert summary(iter_inputs([f"dump{suffix}"])) == [
        (f"dump{suffix}!inner/path.txt", "path.txt", b"first\n"),
        Skipped(f"dump{suffix}!inner/link.txt", "symlink member"),
        (f"dump{suffix}!../evil.txt", "evil.txt", b"read, never written\n"),
        (f"dump{suffix}!c.txt.xz", "c.txt", b"compressed member\n"),
    ]
    assert os.listdir(tmp_path) == [f"dump{suffix}"]
    assert not (tmp_path.parent / "evil.txt").exists()


def test_tar_is_recognised_by_its_magic_without_a_suffix(tmp_path):
    tar = make_tar(tmp_path / "bundle", "w", [("a.txt", b"a\n")])
    assert summary(iter_inputs([str(tar)])) == [(f"{tar}!a.txt", "a.txt", b"a\n")]


def test_tar_member_can_be_opened_once_only(tmp_path):
    tar = make_tar(tmp_path / "t.tar", "w", [("a.txt", b"a\n")])
    items = iter_inputs([str(tar)])
    item = next(items)
    assert item.size == 2
    assert item.open().read() == b"a\n"
    with pytest.raises(RuntimeError, match=r"t\.tar!a\.txt can be opened only once"):
        item.open()
    assert list(items) == []


def test_tar_members_not_read_by_the_consumer_are_passed_over(tmp_path):
    tar = make_tar(tmp_path / "t.tar.xz", "w:xz", [("a.txt", LONG_TEXT), ("b.txt", b"b\n")])
    items = iter_inputs([str(tar)])
    assert next(items).path.endswith("!a.txt")  # never opened
    last = next(items)
    assert (last.path, last.open().read()) == (f"{tar}!b.txt", b"b\n")


def test_truncated_tar_fails_the_member_being_read_then_skips_the_archive(tmp_path):
    whole = make_tar(tmp_path / "whole.tar", "w", [("a.txt", LONG_TEXT), ("b.txt", b"b\n")])
    cut = write(tmp_path / "cut.tar", whole.read_bytes()[:100_000])
    items = iter_inputs([str(cut)])
    first = next(items)
    assert first.path == f"{cut}!a.txt"
    with first.open() as stream, pytest.raises(BrokenInput) as raised:
        stream.read()
    assert raised.value.reason == "broken archive: unexpected end of data"
    assert list(items) == [Skipped(str(cut), "broken archive: unexpected end of data")]


def test_truncated_compressed_tar_fails_the_member_then_skips_the_archive(tmp_path):
    big = LONG_TEXT * 5
    whole = make_tar(tmp_path / "whole.tar.gz", "w:gz", [("a.txt", b"a\n"), ("b.txt", big)])
    cut = write(tmp_path / "cut.tar.gz", whole.read_bytes()[: len(big) // 4])
    assert summary_until_broken(iter_inputs([str(cut)])) == [
        (f"{cut}!a.txt", "read"),
        (f"{cut}!b.txt", GZIP_ENDED_EARLY),
        Skipped(str(cut), GZIP_ENDED_EARLY),
    ]


def test_compressed_tar_truncated_early_is_skipped_with_the_compression_reason(tmp_path):
    whole = make_tar(tmp_path / "whole.tar.gz", "w:gz", [("a.txt", LONG_TEXT)])
    cut = write(tmp_path / "cut.tar.gz", whole.read_bytes()[:5000])
    assert summary_until_broken(iter_inputs([str(cut)])) == [Skipped(str(cut), GZIP_ENDED_EARLY)]


GZIP_ENDED_EARLY = (
    "broken gzip stream: Compressed file ended before the end-of-stream marker was reached"
)


def summary_until_broken(items) -> list:
    out = []
    for item in items:
        if isinstance(item, Input):
            try:
                item.open().read()
                out.append((item.path, "read"))
            except BrokenInput as error:
                out.append((item.path, error.reason))
        else:
            out.append(item)
    return out


def test_file_named_tar_that_is_not_a_tar_is_skipped_as_broken(tmp_path):
    path = write(tmp_path / "notes.tar", b"just some notes\n" * 40)
    assert list(iter_inputs([str(path)])) == [Skipped(str(path), "broken archive: invalid header")]


# --- hostile archives, streams and trees ---------------------------------------------------

def tar_header(name: str, size: int, kind: bytes = tarfile.REGTYPE, **extra) -> bytes:
    info = tarfile.TarInfo(name)
    info.size, info.type = size, kind
    for key, value in extra.items():
        setattr(info, key, value)
    return info.tobuf(format=tarfile.GNU_FORMAT)


def tar_member(name: str, data: bytes) -> bytes:
    return tar_header(name, len(data)) + data + b"\0" * (-len(data) % 512)


def records(items) -> list:
    """Each item as (path, what became of it): read, skipped with its reason, or broken."""
    out = []
    for item in items:
        if isinstance(item, Input):
            try:
                item.open().read()
                out.append((item.path, "read"))
            except BrokenInput as error:
                out.append((item.path, error.reason))
        else:
            out.append((item.path, item.reason))
    return out


@pytest.mark.parametrize("compressed", [False, True], ids=["tar", "tar.gz"])
def test_tar_member_declaring_a_terabyte_ends_the_archive_instead_of_reading_on(
    tmp_path, compressed
):
    data = tar_header("big.txt", 10**12) + b"hello\n".ljust(512, b"\0")
    name = "declared.tar.gz" if compressed else "declared.tar"
    path = write(tmp_path / name, gzip.compress(data) if compressed else data)
    member = "decompressed size exceeds limit (4 GiB)" if compressed else (
        "broken archive: unexpected end of data")
    assert records(iter_inputs([str(path)])) == [
        (f"{path}!big.txt", member),
        (str(path), "broken archive: unexpected end of data"),
    ]


def test_bad_checksum_on_a_later_tar_header_keeps_the_members_before_and_says_the_rest_is_lost(
    tmp_path,
):
    second = bytearray(tar_member("b.txt", b"b\n"))
    second[148:156] = b"0000000\0"
    path = write(tmp_path / "t.tar", tar_member("a.txt", b"a\n") + bytes(second)
                 + tar_member("c.txt", b"c\n") + b"\0" * 1024)
    assert records(iter_inputs([str(path)])) == [
        (f"{path}!a.txt", "read"),
        (str(path), ("broken archive: bad checksum at byte 1024; "
                    "the members from there on are not read")),
    ]


def test_every_tar_member_that_is_not_a_file_is_skipped_with_its_kind_and_directories_are_silent(
    tmp_path,
):
    path = write(tmp_path / "special.tar", b"".join([
        tar_header("dir/", 0, tarfile.DIRTYPE),
        tar_header("dir/link", 0, tarfile.SYMTYPE, linkname="a.txt"),
        tar_header("dir/hard", 0, tarfile.LNKTYPE, linkname="a.txt"),
        tar_header("dir/null", 0, tarfile.CHRTYPE),
        tar_header("dir/disk", 0, tarfile.BLKTYPE),
        tar_header("dir/pipe", 0, tarfile.FIFOTYPE),
        tar_member("dir/a.txt", b"a\n"),
    ]) + b"\0" * 1024)
    assert records(iter_inputs([str(path)])) == [
        (f"{path}!dir/link", "symlink member"),
        (f"{path}!dir/hard", "hardlink member"),
        (f"{path}!dir/null", "device member"),
        (f"{path}!dir/disk", "device member"),
        (f"{path}!dir/pipe", "fifo member"),
        (f"{path}!dir/a.txt", "read"),
    ]


def test_archives_without_a_file_are_skipped_as_empty(tmp_path):
    empty_zip = io.BytesIO()
    zipfile.ZipFile(empty_zip, "w").close()
    dirs_only = io.BytesIO()
    with zipfile.ZipFile(dirs_only, "w") as archive:
        archive.writestr("inner/", b"")
    paths = [
        write(tmp_path / "zeros.tar", b"\0" * 10240),
        write(tmp_path / "empty.zip", empty_zip.getvalue()),
        write(tmp_path / "dirs.zip", dirs_only.getvalue()),
        write(tmp_path / "dirs.tar", tar_header("inner/", 0, tarfile.DIRTYPE) + b"\0" * 1024),
    ]
    assert records(iter_inputs([str(p) for p in paths])) == [
        (str(p), "empty archive (no file in it)") for p in paths
    ]


def test_zip_member_named_with_a_nul_byte_is_skipped_and_the_others_are_read(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("Xevil.txt", b"evil\n")
        archive.writestr("good.txt", b"good\n")
    path = write(tmp_path / "nul.zip", buffer.getvalue().replace(b"Xevil.txt", b"\0evil.txt"))
    assert records(iter_inputs([str(path)])) == [
        (f"{path}!\\x00evil.txt", "member name holds a NUL byte"),
        (f"{path}!good.txt", "read"),
    ]


def zip_listing_one_member(times: int, data: bytes) -> bytes:
    """A zip whose central directory names its one member `times` times."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("m.txt", data)
    whole = buffer.getvalue()
    start, end = whole.rindex(b"PK\x01\x02"), whole.rindex(b"PK\x05\x06")
    record = bytearray(whole[end:])
    struct.pack_into("<HHII", record, 8, times, times, (end - start) * times, start)
    return whole[:start] + whole[start:end] * times + bytes(record)


def test_zip_whose_entries_share_their_data_is_refused_whole(tmp_path):
    path = write(tmp_path / "overlap.zip", zip_listing_one_member(50, b"\n" * 100_000))
    assert records(iter_inputs([str(path)])) == [
        (str(path), ("broken archive: 49 of 50 entries overlap the data of others"
                    " (refused as a likely zip bomb)")),
    ]


@pytest.mark.parametrize(
    ("codec", "suffix", "compress"),
    [
        ("gzip", ".gz", gzip.compress),
        ("zstd", ".zst", lambda data: zstandard.ZstdCompressor().compress(data)),
        ("xz", ".xz", lzma.compress),
        ("bz2", ".bz2", bz2.compress),
    ],
    ids=["gzip", "zstd", "xz", "bz2"],
)
def test_bytes_after_a_compressed_stream_end_it_with_a_notice_and_keep_what_was_read(
    tmp_path, codec, suffix, compress
):
    text = b"first part\n" * 1000
    path = write(tmp_path / f"a.txt{suffix}", compress(text) + compress(text) + b"garbage!" * 9)
    item, _walk = first_input(path)
    with item.open() as stream:
        assert stream.read() == text + text
    assert item.notices == [
        f"bytes after the end of the {codec} stream (from byte {2 * len(compress(text))}) ignored"
    ]


def test_zero_padding_after_a_compressed_stream_is_no_problem(tmp_path):
    path = write(tmp_path / "a.txt.gz", gzip.compress(b"text\n") + b"\0" * 5000)
    item, _walk = first_input(path)
    with item.open() as stream:
        assert stream.read() == b"text\n"
    assert item.notices == []


def test_a_directory_tree_deeper_than_the_recursion_limit_is_walked(tmp_path):
    path = tmp_path / "tree"
    path.mkdir()
    for _ in range(1100):
        path = path / "d"
        os.mkdir(path)
    write(path / "deep.txt", b"deep\n")
    try:
        assert records(iter_inputs([str(tmp_path / "tree")])) == [(str(path / "deep.txt"), "read")]
    finally:  # shutil.rmtree, which cleans tmp_path, recurses
        (path / "deep.txt").unlink()
        while path != tmp_path:
            path.rmdir()
            path = path.parent


def test_a_file_named_twice_or_through_its_directory_is_read_once(tmp_path):
    path = write(tmp_path / "dir" / "a.txt", b"a\n")
    assert records(iter_inputs([str(path), str(path), str(tmp_path / "dir")])) == [
        (str(path), "read"),
        (str(path), f"already read as {path}"),
        (str(path), f"already read as {path}"),
    ]
    assert [found.path if isinstance(found, Found) else found
            for found in iter_files([str(tmp_path / "dir"), str(path)])] == [
        str(path), Skipped(str(path), f"already read as {path}")]


def test_requested_fifo_without_a_writer_is_skipped_after_the_wait(tmp_path):
    os.mkfifo(tmp_path / "pipe")
    started = time.monotonic()
    assert list(iter_inputs([str(tmp_path / "pipe")], limits=Limits(pipe_wait=0.2))) == [
        Skipped(str(tmp_path / "pipe"), "no data came within 0.2 s (a pipe with no writer?)")
    ]
    assert time.monotonic() - started < 5


def test_text_read_whole_beyond_its_limit_is_too_large(tmp_path):
    path = write(tmp_path / "a.txt.gz", gzip.compress(b"x" * 5000))
    item, _walk = first_input(path, limits=Limits(max_whole_file=4096))
    with item.open() as stream, pytest.raises(InputTooLarge) as raised:
        read_whole(stream, item.limits.max_whole_file)
    assert raised.value.reason == "too large to read whole (more than 4 KiB)"


def test_a_file_gone_before_it_is_read_is_skipped_when_met_in_a_directory_else_an_error(
        tmp_path):
    inside = write(tmp_path / "dir" / "a.txt", b"a\n")
    named = write(tmp_path / "b.txt", b"b\n")
    found = list(iter_files([str(tmp_path / "dir"), str(named)]))
    assert [(f.path, f.requested) for f in found] == [(str(inside), False), (str(named), True)]
    inside.unlink()
    named.unlink()
    assert [item for f in found for item in inputs_of(f)] == [
        Skipped(str(inside), "unreadable: no such file or directory"),
        PathError(str(named), "no such file or directory"),
    ]


def test_stdin_named_twice_is_found_once():
    found = list(iter_files(["-", "-"]))
    assert [type(f) for f in found] == [Found, Skipped]
    assert found[1] == Skipped("-", "stdin already read")
