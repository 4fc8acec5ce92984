"""``python -m losskit``: the ``losskit`` command line."""

import sys

from .cli import main

sys.exit(main())
