"""``python -m harness`` runs the compliance gate."""

import sys

from harness.cli import main

sys.exit(main())
