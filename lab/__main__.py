"""`python -m lab` runs the same command as `lab`."""

from lab.cli import main

raise SystemExit(main())
