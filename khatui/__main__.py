"""`python -m khatui` runs the same CLI as the `khatui` console script."""

from khatui.cli.main import main

raise SystemExit(main())
