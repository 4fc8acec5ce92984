"""``python -m losskit.bench [--quick] [--only FAMILY] [--json FILE]``."""

from .runner import main

raise SystemExit(main())
