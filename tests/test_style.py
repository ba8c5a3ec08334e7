"""The code base is kept ruff-clean: the linter runs with the tests, in CI too."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_ruff_finds_nothing_to_fix():
    done = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "backrooms_scan", "tests",
         "benchmarks"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
