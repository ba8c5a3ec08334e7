"""`-o FILE` and stdout: every target written safely, every failure one line with exit 2."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from mock_environment import invoke

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures" / "cli"
TRANSCRIPT = str(FIXTURES / "conversation_1709632800_scenario_mini backrooms.txt")
PATTERNS = str(FIXTURES / "mini.yaml")
SCAN = ("scan", TRANSCRIPT, "-p", PATTERNS, "-j", "1")


def report(*args: str, **environment):
    return invoke(*SCAN, *args, **environment)


def shell(command: str, **kwargs) -> subprocess.CompletedProcess:
    """`command` in bash, with `scan` standing for this checkout's scan of the fixture."""
    scan = f"{sys.executable} -m backrooms_scan scan '{TRANSCRIPT}' -p {PATTERNS} -j 1"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(["bash", "-c", command.replace("SCAN", scan)], capture_output=True,
                          text=True, env=env, timeout=60, check=False, **kwargs)


def json_of(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


# --- targets that cannot be written ----------------------------------------------------

def test_a_missing_folder_is_one_line_and_exit_2(tmp_path):
    out = tmp_path / "missing" / "out.json"
    done = report("-f", "json", "-o", str(out))
    assert (done.status, done.stdout) == (2, "")
    assert done.stderr == f"backrooms-scan: cannot write {out}: no such file or directory\n"


def test_an_empty_output_path_is_refused():
    done = report("-o", "")
    assert (done.status, done.stdout, done.stderr) == (
        2, "", "backrooms-scan: -o '': an empty path names no file\n")


def test_a_directory_is_refused(tmp_path):
    done = report("-o", str(tmp_path))
    assert (done.status, done.stderr) == (2, f"backrooms-scan: cannot write {tmp_path}: is a directory\n")


def test_a_full_device_is_one_line_exit_2_and_stays_a_device():
    done = shell("SCAN -f json -o /dev/full")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == "backrooms-scan: cannot write /dev/full: no space left on device\n"
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


@pytest.fixture
def immutable(tmp_path):
    """Make paths immutable (`chattr +i`: read-only even for root) and undo it afterwards."""
    made = []

    def make(path: Path) -> Path:
        if subprocess.run(["chattr", "+i", str(path)], capture_output=True, check=False).returncode:
            pytest.skip("chattr +i is not available here")
        made.append(path)
        return path

    yield make
    for path in made:
        subprocess.run(["chattr", "-i", str(path)], check=False)


def test_a_read_only_folder_and_a_read_only_file_are_one_line_each(tmp_path, immutable):
    locked = tmp_path / "locked"
    locked.mkdir()
    immutable(locked)
    done = report("-o", str(locked / "out.json"))
    assert (done.status, done.stdout) == (2, "")
    assert done.stderr == f"backrooms-scan: cannot write {locked}/out.json: operation not permitted\n"
    kept = tmp_path / "kept.txt"
    kept.write_text("keep me\n")
    immutable(kept)
    done = report("-o", str(kept))
    assert (done.status, kept.read_text()) == (2, "keep me\n")
    assert done.stderr == f"backrooms-scan: cannot write {kept}: permission denied\n"


# --- targets written through or in place -------------------------------------------------

def test_a_symlink_is_followed_and_stays_a_symlink(tmp_path):
    target = tmp_path / "target.json"
    target.write_text("old\n")
    link = tmp_path / "link.json"
    link.symlink_to(target.name)
    done = report("-f", "json", "-o", str(link))
    assert (done.status, done.stdout) == (0, "")
    assert link.is_symlink() and os.readlink(link) == "target.json"
    assert json_of(target)["hits"] == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.json", "target.json"]


def test_a_dangling_symlink_creates_its_target(tmp_path):
    link = tmp_path / "link.json"
    link.symlink_to("made.json")
    assert report("-f", "json", "-o", str(link)).status == 0
    assert link.is_symlink() and json_of(tmp_path / "made.json")["hits"] == 4


def test_a_fifo_is_written_into_not_replaced(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()))
    reader.start()
    done = report("-f", "json", "-o", str(fifo))
    reader.join(timeout=30)
    assert done.status == 0
    assert json.loads(received[0])["hits"] == 4
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_a_dash_is_stdout():
    done = report("-f", "json", "-o", "-")
    assert done.status == 0 and json.loads(done.stdout)["hits"] == 4


def test_an_existing_file_keeps_its_mode(tmp_path):
    out = tmp_path / "report.json"
    for mode in (0o644, 0o640, 0o604):
        out.write_text("old\n")
        out.chmod(mode)
        assert report("-f", "json", "-o", str(out)).status == 0
        assert stat.S_IMODE(out.stat().st_mode) == mode
        assert json_of(out)["hits"] == 4


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600)])
def test_a_new_file_gets_the_mode_the_umask_gives(tmp_path, umask, mode):
    out = tmp_path / "report.json"
    old = os.umask(umask)
    try:
        assert report("-f", "json", "-o", str(out)).status == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE(out.stat().st_mode) == mode


def test_quiet_silences_the_terminal_not_the_file(tmp_path):
    out = tmp_path / "q.json"
    done = report("-q", "-f", "json", "-o", str(out), tty=True)
    assert (done.status, done.stdout, done.stderr) == (0, "", "")
    assert json_of(out)["hits"] == 4


def test_quiet_with_a_dash_prints_nothing():
    done = report("-q", "-f", "json", "-o", "-")
    assert (done.status, done.stdout) == (0, "")


# --- stdout that cannot be written ---------------------------------------------------------

def test_closed_stdout_is_one_line_and_exit_2():
    done = shell("SCAN >&-")
    assert (done.returncode, done.stderr) == (
        2, "backrooms-scan: cannot write stdout: bad file descriptor\n")


def test_full_stdout_is_one_line_and_exit_2():
    done = shell("SCAN -f jsonl >/dev/full")
    assert (done.returncode, done.stderr) == (
        2, "backrooms-scan: cannot write stdout: no space left on device\n")


def test_closed_stdout_does_not_matter_with_an_output_file(tmp_path):
    out = tmp_path / "r.json"
    done = shell(f"SCAN -f json -o {out} >&-")
    assert (done.returncode, done.stderr) == (0, "")
    assert json_of(out)["hits"] == 4


@pytest.mark.parametrize(("extra", "status"), [("", 0), ("--role system", 1)])
def test_a_table_cut_short_by_head_ends_quietly_with_the_hit_status(extra, status):
    done = shell(f"SCAN -f table {extra} | head -1; exit ${{PIPESTATUS[0]}}")
    assert (done.returncode, done.stderr) == (status, "")
    assert done.stdout.rstrip() == "Pattern hits"
