"""Exit statuses and what stdout holds when there is nothing to report, piped and on a terminal."""

from __future__ import annotations

from pathlib import Path

import pytest
from mock_environment import invoke

FIXTURES = Path(__file__).parent / "fixtures" / "cli"
TRANSCRIPT = str(FIXTURES / "conversation_1709632800_scenario_mini backrooms.txt")
PATTERNS = str(FIXTURES / "mini.yaml")
QUIET_TALK = "### Claude 1 ###\nnothing to see\n\n### Claude 2 ###\nindeed\n"


@pytest.fixture
def clean_dump(tmp_path):
    (tmp_path / "quiet.txt").write_text(QUIET_TALK)
    return str(tmp_path)


# --- --fail-if: the status tells the thresholds ---------------------------------------------

@pytest.mark.parametrize("tty", [False, True])
def test_fail_if_passes_with_0_on_a_dump_without_hits(clean_dump, tty):
    done = invoke("scan", clean_dump, "-q", "--fail-if", "heart-sutra-mantra>0", tty=tty)
    assert (done.status, done.stdout, done.stderr) == (0, "", "")


def test_fail_if_passes_with_0_when_there_are_hits_under_the_threshold():
    done = invoke("scan", TRANSCRIPT, "-p", PATTERNS, "-q", "--fail-if", "hits>100")
    assert (done.status, done.stderr) == (0, "")


def test_every_tripped_threshold_is_reported_and_the_status_is_3():
    done = invoke("scan", TRANSCRIPT, "-p", PATTERNS, "-q", "--fail-if", "mini/welfare>1",
                  "--fail-if", "hits>100", "--fail-if", "mantra>=1")
    assert done.status == 3
    assert done.stderr == ("backrooms-scan: --fail-if 'mini/welfare>1' tripped: mini/welfare = 2\n"
                           "backrooms-scan: --fail-if 'mantra>=1' tripped: mantra = 1\n")


def test_a_threshold_naming_nothing_is_refused_before_scanning():
    done = invoke("scan", TRANSCRIPT, "-p", PATTERNS, "--fail-if", "mantras>0")
    assert (done.status, done.stdout) == (2, "")
    assert done.stderr == "backrooms-scan: --fail-if 'mantras>0': no count or pattern named 'mantras'\n"


def test_an_unreadable_path_is_2_even_with_thresholds(tmp_path):
    done = invoke("scan", str(tmp_path / "nope"), TRANSCRIPT, "-p", PATTERNS, "-q",
                  "--fail-if", "hits>100")
    assert done.status == 2
    assert done.stderr == f"backrooms-scan: {tmp_path / 'nope'}: no such file or directory\n"


def test_merge_with_fail_if_follows_the_same_rule(tmp_path):
    shard = tmp_path / "shard.json"
    assert invoke("scan", TRANSCRIPT, "-p", PATTERNS, "--shard", "1/1", "-f", "json",
                  "-o", str(shard)).status == 0
    assert invoke("merge", str(shard), "--fail-if", "hits>100").status == 0
    tripped = invoke("merge", str(shard), "--fail-if", "hits>1")
    assert (tripped.status, tripped.stderr) == (3, "backrooms-scan: --fail-if 'hits>1' tripped: hits = 4\n")


# --- nothing to report ------------------------------------------------------------------------

@pytest.mark.parametrize("tty", [False, True])
def test_a_missing_path_prints_the_error_and_nothing_on_stdout(tmp_path, tty):
    done = invoke("scan", str(tmp_path / "nope"), tty=tty)
    assert (done.status, done.stdout) == (2, "")
    assert done.stderr == f"backrooms-scan: {tmp_path / 'nope'}: no such file or directory\n"


@pytest.mark.parametrize("tty", [False, True])
def test_an_empty_folder_says_no_transcripts_were_found(tmp_path, tty):
    done = invoke("scan", str(tmp_path), tty=tty)
    assert (done.status, done.stdout) == (1, "")
    assert done.stderr == f"backrooms-scan: no transcripts found under {tmp_path}\n"


def test_a_folder_of_skipped_files_says_so_with_the_count(tmp_path):
    (tmp_path / "config.json").write_text('{"temperature": 1}')
    done = invoke("scan", str(tmp_path))
    assert (done.status, done.stdout) == (1, "")
    assert done.stderr.splitlines()[-1] == (
        f"backrooms-scan: no transcripts found under {tmp_path} (1 skipped)")


def test_machine_formats_still_write_their_document_when_nothing_was_found(tmp_path):
    done = invoke("scan", str(tmp_path), "-f", "json")
    assert done.status == 1 and '"files_scanned": 0' in done.stdout


# --- a signal that arrives while a command is still importing its modules --------------------

def test_a_signal_wrapped_by_an_import_still_ends_as_an_interruption(monkeypatch):
    """A signal raised inside a class body comes out as a RuntimeError: it is still 143."""
    import signal

    from backrooms_scan import commands, interrupt

    def import_interrupted_by_sigterm(*args, **kwargs):
        try:
            raise interrupt.Interrupted(signal.SIGTERM)
        except interrupt.Interrupted as error:
            raise RuntimeError("Error calling __set_name__ on 'Field' instance") from error

    monkeypatch.setattr(commands, "execute", import_interrupted_by_sigterm)
    outcome = invoke("scan", TRANSCRIPT, "-p", PATTERNS)
    assert (outcome.status, outcome.stdout, outcome.stderr) == (
        143, "", "backrooms-scan: interrupted\n")
