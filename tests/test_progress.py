"""The progress bar on stderr: what it shows on a terminal, and that it is absent elsewhere.

The mock environment's stderr is a buffer; on a "terminal" the bar is drawn into it by a
rich console forced to be a terminal of the mock's width, so the frames can be read back.
"""

from __future__ import annotations

import io
import re
import shutil
import zipfile
from pathlib import Path

import pytest
from mock_environment import invoke

from backrooms_scan.report import progress

FIXTURES = Path(__file__).parent / "fixtures" / "backrooms"
TRANSCRIPTS = sorted(FIXTURES.glob("conversation_*.txt"))[:3]
CONTROL = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@pytest.fixture(autouse=True)
def bar_at_once(monkeypatch):
    """The bar waits a second before it appears; tests do not."""
    monkeypatch.setattr(progress.ScanProgress, "DELAY_SECONDS", 0.0)


def frames(stderr: str) -> list[str]:
    """What the terminal showed, piece by piece: control sequences dropped, split at CR/LF."""
    return [piece for piece in re.split(r"[\r\n]", CONTROL.sub("", stderr)) if piece.strip()]


def last_bar(stderr: str) -> str:
    bars = [frame for frame in frames(stderr) if " files " in frame]
    assert bars, stderr
    return bars[-1]


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    for transcript in TRANSCRIPTS:
        shutil.copy(transcript, tmp_path / transcript.name.replace(" ", "_"))
    return tmp_path


def test_a_terminal_shows_files_and_bytes_done_of_the_total(tree):
    total_bytes = sum(path.stat().st_size for path in tree.iterdir())
    assert 1000 <= total_bytes < 1_000_000  # so the count is in kB, as below

    done = invoke("scan", str(tree), "-j", "1", tty=True, width=120)

    bar = last_bar(done.stderr)
    assert f"{len(TRANSCRIPTS)}/{len(TRANSCRIPTS)} files" in bar
    kilobytes = f"{total_bytes / 1000:.1f}"
    assert f"{kilobytes}/{kilobytes} kB" in bar
    assert "0:00:00" in bar  # the time left, known since the total is


def test_an_archive_streams_so_the_total_and_time_left_are_unknown(tree, tmp_path_factory):
    archive = tmp_path_factory.mktemp("zipped") / "dump.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in sorted(tree.iterdir()):
            zipped.write(path, path.name)

    done = invoke("scan", str(archive), "-j", "1", tty=True, width=120)

    bar = last_bar(done.stderr)
    assert re.search(rf"(?<![/\d]){len(TRANSCRIPTS)} files", bar), bar
    size = archive.stat().st_size
    assert re.search(rf"(?<![/\d.]){size / 1000:.1f}/\? kB", bar), (size, bar)
    assert "0:00" not in bar and "-:--" not in bar


def test_stdin_streams_too():
    text = TRANSCRIPTS[0].read_bytes()

    done = invoke("scan", "-", "-j", "1", tty=True, width=120, stdin=text)

    bar = last_bar(done.stderr)
    assert re.search(r"(?<![/\d])1 files", bar) and "0:00" not in bar


@pytest.mark.parametrize("width", [80, 90, 100, 130])
def test_a_long_path_is_shortened_at_a_word_never_mid_word(tmp_path, width):
    deep = tmp_path / "several-words_in.this" / "directory name"
    deep.mkdir(parents=True)
    name = "conversation_1714000000_scenario_culture-minds.txt"
    shutil.copy(TRANSCRIPTS[0], deep / name)
    path = str(deep / name)

    done = invoke("scan", str(tmp_path), "-j", "1", tty=True, width=width)

    shown = last_bar(done.stderr).rsplit(" ", 1)[-1] if "…" in done.stderr else None
    if shown is None:  # nothing of the path fits beside the counts, so none is shown
        assert path not in done.stderr and name not in done.stderr
        return
    assert shown.startswith("…") and path.endswith(shown[1:])
    cut = len(path) - len(shown) + 1
    assert path[cut - 1] in "/ ._-" and path[cut] not in "/ ._-"
    assert all(len(line) <= width for line in frames(done.stderr))


@pytest.mark.parametrize("environment", [
    {"tty": False},                                   # a pipe
    {"tty": True, "stderr_tty": False},               # stdout on a terminal, stderr redirected
    {"tty": True, "environ": {"CI": "true"}},         # under CI
])
def test_no_bar_off_a_terminal_or_under_ci(tree, environment):
    done = invoke("scan", str(tree), "-j", "1", **environment)

    assert done.stderr == ""


def test_no_bar_with_quiet(tree):
    done = invoke("scan", str(tree), "-j", "1", "-q", tty=True)

    assert done.stderr == ""


def test_verbose_lines_print_above_the_bar_not_through_it(tree):
    for index in range(3):
        (tree / f"notes_{index}.txt").write_text("just some notes, no turns\n", encoding="utf-8")
    without_bar = invoke("scan", str(tree), "-j", "1", "--verbose", tty=True,
                         environ={"CI": "true"})
    expected = without_bar.stderr.splitlines()
    assert len([line for line in expected if "notes_" in line]) == 3

    done = invoke("scan", str(tree), "-j", "1", "--verbose", tty=True, width=120)

    shown = frames(done.stderr)
    for line in expected:
        assert line in shown, (line, shown)
    assert " files " in done.stderr


def test_progress_writes_lines_whole_while_the_bar_is_up():
    from rich.console import Console

    from backrooms_scan.scan import FileResult, UnitSize

    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=100)
    sizes = {index: UnitSize(100, True) for index in range(2)}
    with progress.ScanProgress(console, sizes, delay=0) as bar:
        bar.advance(0, FileResult("a.txt"))
        bar.write("backrooms-scan: b.txt: a line long enough to run past the bar's own width, "
                  "which is not wrapped\n")
        bar.advance(1, FileResult("b.txt"))

    shown = frames(out.getvalue())
    assert ("backrooms-scan: b.txt: a line long enough to run past the bar's own width, "
            "which is not wrapped") in shown
    assert "2/2 files" in last_bar(out.getvalue())
