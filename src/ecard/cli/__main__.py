"""``python -m ecard.cli`` runs the ``ecard`` command."""

import sys

from ecard.cli.main import main

sys.exit(main())
