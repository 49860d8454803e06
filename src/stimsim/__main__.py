"""``python -m stimsim`` runs the command line."""

from stimsim.cli import main

raise SystemExit(main())
