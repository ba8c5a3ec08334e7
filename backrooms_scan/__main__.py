"""`python -m backrooms_scan` and the console script: signals are handled before the
command line's heavy imports start, so Ctrl-C at any instant ends without a traceback."""

import os

from backrooms_scan import interrupt


def end_at_once(signum: int) -> None:
    """A signal before the command runs: nothing to save, so say so and end, 128 + signum."""
    os.write(2, b"backrooms-scan: interrupted\n")
    os._exit(128 + signum)


def run() -> None:
    interrupt.install(end=end_at_once)
    from backrooms_scan.cli import main

    main(prog_name="backrooms-scan")


if __name__ == "__main__":
    run()
