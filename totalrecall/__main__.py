"""Allow `python -m totalrecall`."""

from totalrecall.cli import main

main()
