from backrooms_scan.cli import main

main(prog_name="backrooms-scan")
