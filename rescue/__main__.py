"""`python -m rescue ARGS`: the same entry as the `rescue` script (e.g. for `-X importtime`)."""

from rescue.cli import main

raise SystemExit(main())
