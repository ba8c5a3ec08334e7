"""`python -m backrooms_scan` and the console script: signals are handled before the
command line's heavy imports start, so Ctrl-C at any instant ends without a traceback."""

from backrooms_scan import interrupt


def run() -> None:
    interrupt.install()
    from backrooms_scan.cli import main

    main(prog_name="backrooms-scan")


if __name__ == "__main__":
    run()
