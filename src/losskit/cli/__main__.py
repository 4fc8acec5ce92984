"""``python -m losskit.cli``."""

import sys

from . import main

sys.exit(main())
