"""`show PATH[:LINE]`: the conversation, turn by turn, with the hits highlighted.

The expected outputs of the sample files (tests/fixtures/show) were read and checked
by hand against the transcripts: one header per turn with its index, speaker, model,
role and position, the turn's text indented, hits marked. Piped output is plain with
«marks»; on a terminal (60 columns here) hits are in reverse yellow and lines wrap.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import shlex
import struct
import subprocess
import sys
import termios
import zipfile
from pathlib import Path

import pytest
from mock_environment import invoke

from backrooms_scan.cli import sample_dir

EXPECTED = Path(__file__).parent / "fixtures" / "show"
ROOT = Path(__file__).resolve().parent.parent
SAMPLES = sorted(p.name for p in sample_dir().iterdir() if p.name != "run_metadata.json")
VANILLA = sample_dir() / "conversation_1709632800_scenario_vanilla backrooms.txt"
HIGHLIGHT = re.compile(r"\x1b\[1;30;43m(.*?)\x1b\[0m")


def sample(name: str) -> str:
    # The expected files name the samples by this relative path.
    return os.path.relpath(sample_dir() / name, ROOT)


@pytest.fixture(autouse=True)
def in_repository_root(monkeypatch):
    monkeypatch.chdir(ROOT)


@pytest.mark.parametrize("name", SAMPLES)
def test_show_prints_each_sample_exactly_when_piped(name):
    outcome = invoke("show", sample(name))
    assert outcome.stdout == (EXPECTED / f"{name}.piped.txt").read_text(encoding="utf-8")
    assert outcome.status == 0 and outcome.stderr == ""


@pytest.mark.parametrize("name", SAMPLES)
def test_show_prints_each_sample_exactly_on_a_terminal(name):
    outcome = invoke("show", sample(name), tty=True, width=60)
    assert outcome.stdout == (EXPECTED / f"{name}.tty.txt").read_text(encoding="utf-8")
    assert all(len(line) <= 60 for line in strip_styles(outcome.stdout).splitlines()
               if line.startswith("  "))


def strip_styles(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


@pytest.mark.parametrize("name", SAMPLES)
def test_every_turn_text_is_shown_and_every_hit_is_highlighted(name):
    """Checked against `scan --role all -f jsonl`: each match lies in a marked region of
    its turn, and the text without marks is the turns' text, line by line."""
    shown = invoke("show", sample(name)).stdout
    bodies = turn_bodies(shown)
    scan = invoke("scan", sample(name), "--role", "all", "-f", "jsonl").stdout
    matches = [e["data"] for e in map(json.loads, scan.splitlines()) if e["type"] == "match"]
    assert matches
    for match in matches:
        body = bodies[(match["conversation"], match["turn"])]
        marked = re.findall(r"«(.*?)»", body, re.DOTALL)
        assert any(match["match"] in region for region in marked), match
    marked_total = sum(len(re.findall("«", body)) for body in bodies.values())
    assert 0 < marked_total <= len(matches)


def turn_bodies(shown: str) -> dict[tuple[str, int], str]:
    bodies, conversation, turn = {}, None, None
    for line in shown.splitlines():
        if header := re.match(r"=== (.*) \(", line):
            conversation = header.group(1)
        elif header := re.match(r"--- turn (\d+) ·", line):
            turn = int(header.group(1))
            bodies[(conversation, turn)] = ""
        else:
            bodies[(conversation, turn)] += line.removeprefix("  ") + "\n"
    return bodies


def test_a_line_shows_its_turn_with_context_turns_around_it():
    outcome = invoke("show", f"{sample(VANILLA.name)}:47", "-C", "1")
    assert outcome.stdout == f"""\
=== {sample(VANILLA.name)} (backrooms, scenario vanilla backrooms, 11 turns) ===
... 8 earlier turns
   --- turn 9 · claude-explorer · claude-3-opus-20240229 · spoken · line 42:1 ---
  cat heart_sutra.txt

>> --- turn 10 · claude-simulator · claude-3-opus-20240229 · spoken · line 45:1 · 5 hits ---
  form is emptiness, emptiness is form

  «Gate, gate, pāragate, pārasaṃgate, bodhi svāhā»!
  «gone, gone, gone beyond», gone altogether beyond

   --- turn 11 · claude-explorer · claude-3-opus-20240229 · spoken · line 51:1 · 2 hits ---
  and the animals? the «factory farms» hum beneath the floor.
  «animal welfare» is a koan we keep failing.
  ^C^C

"""


def test_pattern_and_set_choose_what_is_highlighted():
    only_gloss = invoke("show", f"{sample(VANILLA.name)}:47", "--pattern", "english-gloss").stdout
    assert "«gone, gone, gone beyond»" in only_gloss and "«Gate" not in only_gloss
    assert "· 1 hit ---" in only_gloss
    welfare = invoke("show", f"{sample(VANILLA.name)}:52", "--set", "animal-welfare").stdout
    assert "«factory farms»" in welfare and "«animal welfare»" in welfare
    unknown = invoke("show", sample(VANILLA.name), "--pattern", "no-such")
    assert unknown.status == 2 and "no pattern named 'no-such'" in unknown.stderr


def test_show_without_hits_exits_1_and_unreadable_input_exits_2():
    quiet = invoke("show", f"{sample(VANILLA.name)}:20", "--set", "heart-sutra-mantra")
    assert quiet.status == 1 and "turn 5" in quiet.stdout
    missing = invoke("show", "no/such/file.txt")
    assert missing.status == 2 and "no/such/file.txt" in missing.stderr and not missing.stdout
    metadata = invoke("show", sample("run_metadata.json"))
    assert metadata.status == 2
    assert metadata.stderr == (f"backrooms-scan: {sample('run_metadata.json')}: "
                               "cannot be shown: not a transcript\n")


def test_show_dash_reads_the_standard_input_it_is_given():
    done = invoke("show", "-", stdin=VANILLA.read_bytes())
    assert done.status == 0, done.stderr
    assert done.stdout.startswith("=== - (backrooms, ")
    assert done.stdout.split("\n", 1)[1] == invoke("show", str(VANILLA)).stdout.split("\n", 1)[1]


def test_control_characters_and_markup_are_shown_not_obeyed(tmp_path):
    path = tmp_path / "art.txt"
    path.write_text("<a>\nred <script>alert(1)</script> <OOC>gate gate paragate</OOC>\n"
                    "<b>\nbell\x07 and a lone \x1b\n<a>\nok\n<b>\nyes\n", encoding="utf-8")
    out = invoke("show", str(path), "--input-format", "backrooms", tty=True).stdout
    assert "\x07" not in out and "bell\u2407 and a lone" in out
    assert "red <script>alert(1)</script> <OOC>\x1b[1;30;43mgate gate paragate\x1b[0m</OOC>" in out


def test_an_archive_member_is_shown_by_its_display_path(tmp_path):
    archive = tmp_path / "dump.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.write(VANILLA, "inner/vanilla.txt")
    outcome = invoke("show", f"{archive}!inner/vanilla.txt:47")
    assert outcome.status == 0 and ">> --- turn 10 ·" in outcome.stdout


def run_on_a_pseudo_terminal(args: list[str], columns: int) -> str:
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "NO_COLOR", "FORCE_COLOR")}
    env["PYTHONPATH"] = str(ROOT)
    process = subprocess.Popen([sys.executable, "-m", "backrooms_scan", *args], cwd=ROOT,
                               stdin=follower, stdout=follower, stderr=follower, env=env)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    process.wait(timeout=60)
    os.close(leader)
    return b"".join(chunks).decode("utf-8").replace("\r\n", "\n")


def test_on_a_real_pseudo_terminal_output_is_coloured_and_wrapped_to_its_width():
    name = VANILLA.name
    out = run_on_a_pseudo_terminal(["show", sample(name)], columns=60)
    assert out == (EXPECTED / f"{name}.tty.txt").read_text(encoding="utf-8")
    assert HIGHLIGHT.search(out)


def test_piped_through_a_real_process_output_is_plain():
    name = VANILLA.name
    env = {k: v for k, v in os.environ.items() if k != "FORCE_COLOR"}
    done = subprocess.run([sys.executable, "-m", "backrooms_scan", "show", sample(name)],
                          cwd=ROOT, capture_output=True, check=True,
                          env={**env, "PYTHONPATH": str(ROOT)})
    assert done.stdout.decode("utf-8") == (EXPECTED / f"{name}.piped.txt").read_text("utf-8")


def test_grep_on_a_terminal_follows_each_turn_with_its_show_command_and_piped_does_not():
    args = ["scan", sample(VANILLA.name), "--set", "heart-sutra-mantra", "-f", "grep"]
    quoted = f"'{sample(VANILLA.name)}:45'"
    assert invoke(*args, tty=True, width=100).stdout.splitlines()[5:] == [
        f"  backrooms-scan show {quoted}"]
    assert "show" not in invoke(*args).stdout


def test_the_show_commands_scan_prints_can_be_pasted():
    """Each command the plain snippets print shows, as its target, the turn holding the hit."""
    out = invoke("scan", "--sample", "--set", "heart-sutra-mantra", "-f", "plain").stdout
    lines = out.splitlines()
    commands = [(lines[i - 1], line.strip()) for i, line in enumerate(lines)
                if line.startswith("    backrooms-scan show ")]
    assert len(commands) >= 6
    for snippet, command in commands:
        hit = re.search(r"\[(.+?)\]", snippet).group(1)
        shown = invoke(*shlex.split(command)[1:])
        target = shown.stdout.split("\n>> ", 1)[1].split("\n   --- ", 1)[0]
        regions = re.findall(r"«(.*?)»", target.replace("\n  ", " "))
        assert shown.status == 0 and any(hit in region for region in regions), command
