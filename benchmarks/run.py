"""Time backrooms-scan side by side with ripgrep on generated dumps.

    python benchmarks/run.py [--size-mb 200] [--profiles dense realistic] [--jobs 1 2]
                             [--repeat 3] [--keep DIR] [--dump DIR] [--scan-cmd CMD] [--json]

Generates a dump per profile with generate_dump.py (or reuses `--dump DIR`), then times
`rg -c -i -F -f patterns.txt DUMP`, `backrooms-scan scan DUMP --format json
--jobs N` for each N (and each `--engine` when the CLI offers it) and
`backrooms-scan --help` start-up. Wall time is the best of the repeats; peak
RSS is the largest resident size of the child (its own workers are reaped
with it, so the figure is the largest single process, not a sum). A failing
command is reported with the tail of its stderr; the script still exits 0.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import resource
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

# engine name as backrooms-scan takes it -> the module it needs
ENGINES = {"pyahocorasick": "ahocorasick", "ahocorasick_rs": "ahocorasick_rs"}
# wait4 alone would report at least the runner's own RSS (see rss_method), so prefer GNU time.
GNU_TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None
STARTUP_REPEAT = 5


@dataclass
class RunResult:
    wall: float
    peak_rss_kb: int
    returncode: int
    stdout: bytes
    stderr: bytes


@dataclass
class Measurement:
    """The figures of one benchmarked command over its repeats."""

    name: str
    command: list[str]
    ok: bool
    returncode: int
    runs: int
    wall: float | None = None
    peak_rss_kb: int | None = None
    hits: int | None = None
    mb_per_s: float | None = None
    vs_ripgrep: float | None = None
    stderr_tail: str = ""
    extra: dict = field(default_factory=dict)


def run_once(command: list[str], timeout: float) -> RunResult:
    """Run `command` to completion and return its wall time and the child's peak RSS."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile(prefix="rss-") as rss_file:
        argv = [GNU_TIME, "-f", "%M", "-o", rss_file.name, *command] if GNU_TIME else command
        started = time.perf_counter()
        try:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        except OSError as error:
            return RunResult(0.0, 0, 127, b"", f"cannot run {command[0]}: {error}".encode())
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        wall = time.perf_counter() - started
        # Reaped by wait4 ourselves; tell Popen so it does not try again.
        proc.returncode = os.waitstatus_to_exitcode(status)
        peak = _time_output_kb(rss_file.read()) if GNU_TIME else None
        out.seek(0)
        err.seek(0)
        return RunResult(wall, peak or usage.ru_maxrss, proc.returncode, out.read(), err.read())


def _time_output_kb(output: bytes) -> int | None:
    """The `%M` figure GNU time wrote last (it may first note a non-zero exit)."""
    lines = output.decode(errors="replace").split()
    return int(lines[-1]) if lines and lines[-1].isdigit() else None


def rss_method() -> str:
    if GNU_TIME:
        return f"{GNU_TIME} -f %M"
    # The kernel carries the forking parent's peak into the child's maxrss at exec.
    floor = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return f"os.wait4 (no figure can be below this runner's own {floor:.0f} MB)"


def measure(
    name: str,
    command: list[str],
    repeat: int,
    ok_codes: tuple[int, ...] = (0,),
    count_hits=None,
    timeout: float = 1800,
) -> Measurement:
    """Best wall time and largest peak RSS over `repeat` runs; stops at the first failure."""
    walls: list[float] = []
    rss: list[int] = []
    last: RunResult | None = None
    for _ in range(repeat):
        last = run_once(command, timeout)
        if last.returncode not in ok_codes:
            return Measurement(
                name, command, False, last.returncode, len(walls) + 1,
                stderr_tail=tail(last.stderr or last.stdout),
            )
        walls.append(last.wall)
        rss.append(last.peak_rss_kb)
    result = Measurement(name, command, True, last.returncode, len(walls))
    result.wall = min(walls)
    result.peak_rss_kb = max(rss)
    if count_hits is not None:
        result.hits = count_hits(last.stdout)
    return result


def tail(output: bytes, lines: int = 8) -> str:
    text = output.decode("utf-8", errors="replace").rstrip()
    return "\n".join(text.splitlines()[-lines:])


def ripgrep_line_count(stdout: bytes) -> int:
    """Sum of `rg -c` counts (matching lines), whether printed as `N` or `path:N`."""
    total = 0
    for line in stdout.splitlines():
        count = line.rsplit(b":", 1)[-1]
        if count.strip().isdigit():
            total += int(count)
    return total


def scan_hit_count(stdout: bytes) -> int | None:
    """The `hits` field of backrooms-scan's JSON summary, as one number when it can be."""
    try:
        summary = json.loads(stdout)
    except ValueError:
        return None
    hits = summary.get("hits") if isinstance(summary, dict) else None
    if isinstance(hits, bool):
        return None
    if isinstance(hits, int):
        return hits
    if isinstance(hits, list):
        return len(hits)
    if isinstance(hits, dict):
        if isinstance(hits.get("total"), int):
            return hits["total"]
        numbers = [v for v in hits.values() if isinstance(v, int) and not isinstance(v, bool)]
        return sum(numbers) if numbers else None
    return None


def available_engines(scan_cmd: list[str]) -> list[str | None]:
    """Engines to try: those importable here, if `scan --help` offers `--engine` at all."""
    probe = run_once([*scan_cmd, "scan", "--help"], timeout=60)
    if probe.returncode != 0 or b"--engine" not in probe.stdout:
        return [None]
    found = [name for name, module in ENGINES.items() if importlib.util.find_spec(module)]
    return found or [None]


def machine_info() -> dict:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "nproc": usable,
        "cpu_count": os.cpu_count(),
        "cpu_model": model or platform.processor() or "unknown",
        "python": platform.python_version(),
        "platform": platform.platform(),
        "peak_rss_by": rss_method(),
    }


def dump_size(path: Path) -> tuple[int, int]:
    """(bytes, files) under `path`."""
    total = files = 0
    for root, _, names in os.walk(path):
        for name in names:
            total += os.path.getsize(os.path.join(root, name))
            files += 1
    return total, files


def load_generator():
    path = Path(__file__).with_name("generate_dump.py")
    spec = importlib.util.spec_from_file_location("generate_dump", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def benchmark(dump: Path, patterns: Path, scan_cmd: list[str], jobs: list[int],
              repeat: int, timeout: float, dump_bytes: int) -> tuple[list[Measurement], list[str]]:
    """Every measurement, ripgrep first; plus notes about what was skipped."""
    results: list[Measurement] = []
    notes: list[str] = []
    rg = shutil.which("rg")
    if rg:
        results.append(measure(
            "ripgrep -c -i -F", [rg, "-c", "-i", "-F", "-f", str(patterns), str(dump)],
            repeat, (0, 1), ripgrep_line_count, timeout,
        ))
    else:
        notes.append("ripgrep not found: apt-get install ripgrep")
    for engine in available_engines(scan_cmd):
        for n in jobs:
            command = [*scan_cmd, "scan", str(dump), "--format", "json", "--jobs", str(n)]
            name = f"scan --jobs {n}"
            if engine:
                command += ["--engine", engine]
                name += f" --engine {engine}"
            results.append(measure(name, command, repeat, (0, 1), scan_hit_count, timeout))
    results.append(measure("startup (--help)", [*scan_cmd, "--help"], STARTUP_REPEAT, (0,),
                           None, timeout))
    rg_wall = results[0].wall if rg and results[0].ok else None
    for result in results:
        if result.wall and not result.name.startswith("startup"):
            result.mb_per_s = dump_bytes / 1e6 / result.wall
            if rg_wall:
                result.vs_ripgrep = result.wall / rg_wall
    return results, notes


def format_table(results: list[Measurement]) -> str:
    header = ("benchmark", "wall s", "MB/s", "peak RSS MB", "vs rg", "hits", "status")
    rows = [header]
    for r in results:
        rows.append((
            r.name,
            f"{r.wall:.3f}" if r.wall is not None else "-",
            f"{r.mb_per_s:.1f}" if r.mb_per_s is not None else "-",
            f"{r.peak_rss_kb / 1024:.1f}" if r.peak_rss_kb is not None else "-",
            f"{r.vs_ripgrep:.1f}x" if r.vs_ripgrep is not None else "-",
            str(r.hits) if r.hits is not None else "-",
            "ok" if r.ok else f"FAILED (exit {r.returncode})",
        ))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = []
    for index, row in enumerate(rows):
        cells = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:-1], widths[1:-1])]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def find_manifest(dump: Path) -> dict | None:
    """The generator's manifest inside the dump or next to it (where --keep puts it)."""
    for candidate in (dump / "manifest.json", dump.parent / "manifest.json"):
        if candidate.is_file():
            return json.loads(candidate.read_text("utf-8"))
    return None


def prepare_dump(args, workspace: Path, profile: str = "dense"
                 ) -> tuple[Path, Path, dict | None, float | None]:
    """(dump dir, patterns file, manifest or None, seconds spent generating or None)."""
    generator = load_generator()
    patterns = workspace / "patterns.txt"
    generator.write_patterns(patterns)
    if args.dump:
        given = next(path for path in args.dump if path.name == profile or path.parent.name == profile)
        return given, patterns, find_manifest(given), None
    dump = workspace / profile / "dump"
    started = time.perf_counter()
    manifest = generator.generate(dump, args.size_mb, args.seed, hit_scale=args.hit_scale,
                                  profile=profile,
                                  manifest_out=workspace / profile / "manifest.json")
    return dump, patterns, manifest, time.perf_counter() - started


def format_side_by_side(labels: list[str], runs: dict[str, list[Measurement]]) -> str:
    """One row per command, and wall time, MB/s, ratio to ripgrep and hits per dump."""
    header = ["benchmark"]
    for label in labels:
        header += [f"{label} s", "MB/s", "vs rg", "hits"]
    header.append("peak RSS MB")
    rows = [header]
    for index, first in enumerate(runs[labels[0]]):
        row = [first.name]
        peak = 0
        for label in labels:
            r = runs[label][index]
            peak = max(peak, r.peak_rss_kb or 0)
            row += [f"{r.wall:.3f}" if r.ok and r.wall is not None else "FAILED",
                    f"{r.mb_per_s:.1f}" if r.mb_per_s is not None else "-",
                    f"{r.vs_ripgrep:.1f}x" if r.vs_ripgrep is not None else "-",
                    str(r.hits) if r.hits is not None else "-"]
        row.append(f"{peak / 1024:.1f}")
        rows.append(row)
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = []
    for number, row in enumerate(rows):
        lines.append("  ".join([row[0].ljust(widths[0])]
                               + [c.rjust(w) for c, w in zip(row[1:], widths[1:])]).rstrip())
        if number == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def report(args, machine, dump, dump_bytes, files, generated, manifest, results, notes) -> None:
    made = f", generated in {generated:.1f}s" if generated is not None else ""
    print(f"dump: {dump} — {dump_bytes / 1e6:.1f} MB in {files} files{made}")
    if manifest:
        totals = manifest["totals"]
        spoken, prompt = sum(totals["spoken"].values()), (
            sum(totals["system"].values()) + sum(totals["context"].values()))
        print(f"planted: {spoken} in spoken turns, {prompt} in SYSTEM/CONTEXT prompts, "
              f"{sum(totals['metadata'].values())} in metadata files")
    print()
    print(format_table(results))
    for note in notes:
        print(f"\n{note}")
    for r in results:
        if not r.ok:
            print(f"\nFAILED {r.name} (exit {r.returncode}): {shlex.join(r.command)}")
            if r.stderr_tail:
                print("  " + r.stderr_tail.replace("\n", "\n  "))
    if args.json:
        figures = {
            "machine": machine,
            "dump": {"path": str(dump), "bytes": dump_bytes, "files": files,
                     "generated_seconds": generated},
            "planted": manifest["totals"] if manifest else None,
            "results": [
                {k: v for k, v in asdict(r).items() if k != "extra"} for r in results
            ],
        }
        print()
        print(json.dumps(figures, indent=2))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=float, default=200, help="dump size (default 200)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--profiles", nargs="+", default=["dense", "realistic"],
                        choices=["dense", "realistic"],
                        help="the generated dumps, timed side by side (default: both)")
    parser.add_argument("--hit-scale", type=float, default=None,
                        help="multiply the generated dumps' spoken phrase rates")
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeat", type=int, default=3, help="runs per command, best counts")
    parser.add_argument("--keep", type=Path, help="generate into DIR and keep it")
    parser.add_argument("--dump", type=Path, nargs="+",
                        help="reuse existing dumps instead of generating (each labelled by its "
                             "directory's name, or its parent's for `.../NAME/dump`)")
    parser.add_argument("--scan-cmd", default="backrooms-scan",
                        help="the backrooms-scan command line (default: backrooms-scan)")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per run")
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        workspace = args.keep
    else:
        workspace = Path(tempfile.mkdtemp(prefix="backrooms-bench-"))
    kept = [workspace / profile / "dump" for profile in args.profiles]
    if args.keep and not args.dump and any(d.exists() and any(d.iterdir()) for d in kept):
        print(f"error: {args.keep} already holds dumps; reuse one with --dump DIR "
              "or remove them", file=sys.stderr)
        return 2
    try:
        machine = machine_info()
        print(f"machine: {machine['nproc']} cpus usable ({machine['cpu_count']} online), "
              f"{machine['cpu_model']}, Python {machine['python']}")
        print(f"peak RSS measured by {machine['peak_rss_by']}")
        print("ripgrep hits are matching lines (-c); scan hits are the JSON summary's `hits`.")
        labels = ([path.parent.name if path.name == "dump" else path.name for path in args.dump]
                  if args.dump else list(args.profiles))
        runs: dict[str, list[Measurement]] = {}
        for label in labels:
            dump, patterns, manifest, generated = prepare_dump(args, workspace, label)
            dump_bytes, files = dump_size(dump)
            results, notes = benchmark(dump, patterns, shlex.split(args.scan_cmd), args.jobs,
                                       max(args.repeat, 1), args.timeout, dump_bytes)
            print(f"\n== {label}")
            report(args, machine, dump, dump_bytes, files, generated, manifest, results, notes)
            runs[label] = results
        if len(labels) > 1:
            print("\n== side by side")
            print(format_side_by_side(labels, runs))
    except BrokenPipeError:
        # Output piped into `head` and closed: end quietly, like grep does.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    finally:
        if not args.keep:
            shutil.rmtree(workspace, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
