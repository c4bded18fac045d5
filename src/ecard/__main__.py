"""``python -m ecard`` runs the ``ecard`` command."""

import sys

from ecard.cli import main

sys.exit(main())
