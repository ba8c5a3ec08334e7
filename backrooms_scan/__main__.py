from backrooms_scan.cli import main

main()
