"""`python -m tfdqn ...` is the `tfdqn` command."""

from tfdqn.commands import main

main()
