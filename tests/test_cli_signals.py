"""Ctrl-C and SIGTERM on a real process, at several moments of a `--jobs 2` scan.

The scan reads a generated dump and then stdin, which the test keeps open, so the
signal always finds it running: in its imports, among its workers, or waiting.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DELAYS = (0.0, 0.1, 0.4, 1.0)  # seconds after the program's own code has started


@pytest.fixture(scope="module")
def dump(tmp_path_factory):
    spec = importlib.util.spec_from_file_location("generate_dump",
                                                  ROOT / "benchmarks" / "generate_dump.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    base = tmp_path_factory.mktemp("signals")
    module.generate(base / "dump", 1.0, 5)
    return base / "dump"


def living_members(group: int) -> list[str]:
    """Processes of a process group that are still alive (zombies excluded)."""
    alive = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group and fields[0] != "Z":
            alive.append(entry.name)
    return alive


def catches_sigterm(pid: int) -> bool:
    """Whether the process handles SIGTERM yet: then the program's own code is running.
    (Before, the interpreter is still starting, and its defaults are all there is.)"""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    caught = int(next(line for line in status.splitlines() if line.startswith("SigCgt:"))
                 .split()[1], 16)
    return bool(caught >> (signal.SIGTERM - 1) & 1)


def interrupted_scan(dump: Path, out: Path, signum: int, delay: float, *, group: bool):
    command = [sys.executable, "-m", "backrooms_scan", "scan", str(dump), "-", "-j", "2",
               "-f", "json", "-o", str(out)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, env=env, start_new_session=True)
    deadline = time.monotonic() + 30
    while not catches_sigterm(process.pid) and time.monotonic() < deadline:
        time.sleep(0.001)
    time.sleep(delay)
    if group:
        os.killpg(process.pid, signum)  # what a terminal does on Ctrl-C
    else:
        process.send_signal(signum)  # what `kill PID` does
    stdout, stderr = process.communicate(timeout=60)
    process.stdin.close()
    deadline = time.monotonic() + 5
    while living_members(process.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return process.returncode, stdout.decode(), stderr.decode(), living_members(process.pid)


@pytest.mark.parametrize("delay", DELAYS)
@pytest.mark.parametrize(("signum", "status", "group"), [
    (signal.SIGINT, 130, True), (signal.SIGTERM, 143, False)])
def test_a_signal_ends_the_scan_cleanly_at_any_moment(dump, tmp_path, delay, signum, status,
                                                      group):
    out = tmp_path / "report.json"
    returncode, stdout, stderr, orphans = interrupted_scan(dump, out, signum, delay, group=group)
    assert returncode == status, stderr
    assert "Traceback" not in stderr and "Error" not in stderr, stderr
    assert stdout == ""
    assert orphans == []
    assert sorted(p.name for p in tmp_path.iterdir()) in ([], ["report.json"])
    last = stderr.splitlines()[-1]
    if out.exists():
        assert json.loads(out.read_text())["partial"] is True
        assert last == f"backrooms-scan: interrupted; the counts written to {out} are partial"
    else:
        assert last == "backrooms-scan: interrupted"


def test_a_signal_once_the_dump_is_read_writes_every_file_so_far(dump, tmp_path):
    out = tmp_path / "report.json"
    returncode, _, stderr, _ = interrupted_scan(dump, out, signal.SIGINT, 2.0, group=True)
    assert returncode == 130, stderr
    written = json.loads(out.read_text())
    files = sum(1 for p in dump.rglob("*") if p.is_file())
    assert written["partial"] is True
    assert written["files_scanned"] + written["files_skipped"] == files
