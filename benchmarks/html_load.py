"""How long the HTML report takes to open in headless Chromium, for many hits.

    python benchmarks/html_load.py [--hits 100000] [--repeat 3] [--screens DIR]

Writes a format-A dump whose spoken turns each hold two hits, scans it to one HTML
report, opens the report in the Debian Chromium (tests/headless_browser.py) and
prints the file size, the time until the page's script has rendered its first page
of the concordance (from navigation start, `window.reportReadyMs`), and the time one
filter change and one sort take. With `--screens DIR`, also saves screenshots of the
sample corpus's report there.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from headless_browser import chromium, missing

TURNS_PER_FILE = 1000


def write_dump(directory: Path, hits: int) -> None:
    turns = hits // 2
    for number in range(0, turns, TURNS_PER_FILE):
        lines = ["actors: explorer, simulator",
                 "models: claude-3-opus-20240229, claude-3-sonnet-20240229", ""]
        for i in range(number, min(turns, number + TURNS_PER_FILE)):
            speaker = "explorer" if i % 2 else "simulator"
            text = (f"turn {i} of the long dream: gate gate paragate, and the animal welfare "
                    f"question, asked for the {i}th time.")
            lines += [f"<{speaker}>", text, ""]
        path = directory / f"conversation_{1700000000 + number}_scenario_load.txt"
        path.write_text("\n".join(lines), encoding="utf-8")


def scan_to_html(paths: list[str], out: Path, *extra: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "backrooms_scan", "scan", *paths, "-f", "html",
                    "-o", str(out), "-q", *extra], check=False, cwd=ROOT,
                   env={**os.environ, "PYTHONPATH": str(ROOT)})
    return time.perf_counter() - started


def timed_in_page(driver, script: str) -> float:
    return driver.execute_script(
        "const t = performance.now();" + script + "; return performance.now() - t;")


def measure(report: Path, repeat: int) -> None:
    with chromium() as driver:
        for attempt in range(1, repeat + 1):
            started = time.perf_counter()
            driver.get(report.as_uri())
            wall = time.perf_counter() - started
            ready = driver.execute_script("return window.reportReadyMs")
            problems = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
            filter_ms = timed_in_page(driver, (
                "const s = document.querySelector('select[data-filter=speaker]');"
                "s.value = s.options[1].value; s.dispatchEvent(new Event('change'))"))
            sort_ms = timed_in_page(driver, "document.querySelector('th[data-sort=where]').click()")
            rows = driver.execute_script("return document.querySelectorAll('tr.hit').length")
            print(f"  load {attempt}: ready {ready:.0f} ms after navigation start "
                  f"(driver.get returned after {wall:.2f} s); filter {filter_ms:.0f} ms, "
                  f"sort {sort_ms:.0f} ms; {rows} rows on the page; "
                  f"{len(problems)} console errors")


def screenshots(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        report = Path(work) / "sample.html"
        scan_to_html(["--sample"], report)
        with chromium(width=1300, height=1000) as driver:
            driver.get(report.as_uri())
            driver.set_window_size(1300, driver.execute_script(
                "return document.documentElement.scrollHeight") + 40)
            driver.save_screenshot(str(directory / "report-sample-full.png"))
            driver.set_window_size(1300, 1000)
            driver.execute_script("document.getElementById('concordance').scrollIntoView()")
            driver.save_screenshot(str(directory / "report-sample-concordance.png"))
            driver.execute_script(
                "const s = document.querySelector('select[data-filter=relation]');"
                "s.value = 'echo'; s.dispatchEvent(new Event('change'));"
                "document.querySelector('tr.hit').click();"
                "document.getElementById('concordance').scrollIntoView()")
            driver.save_screenshot(str(directory / "report-sample-echo-opened.png"))
    for path in sorted(directory.glob("report-sample-*.png")):
        print(f"  {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hits", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--screens", type=Path)
    args = parser.parse_args()
    if reason := missing():
        sys.exit(f"cannot run the browser: {reason}")
    with tempfile.TemporaryDirectory() as work:
        dump, report = Path(work) / "dump", Path(work) / "report.html"
        dump.mkdir()
        write_dump(dump, args.hits)
        seconds = scan_to_html([str(dump)], report, "--set", "heart-sutra-mantra",
                               "--set", "animal-welfare")
        print(f"{args.hits} hits: report written in {seconds:.1f} s, "
              f"{report.stat().st_size / 1e6:.1f} MB")
        measure(report, args.repeat)
    if args.screens:
        print("screenshots:")
        screenshots(args.screens)


if __name__ == "__main__":
    main()
