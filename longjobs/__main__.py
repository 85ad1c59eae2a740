"""`python -m longjobs`: the command, without its installed script."""

from longjobs.cli import main

main()
