"""``python -m layerviz ...`` runs the command line."""

import sys

from layerviz.cli import main

sys.exit(main())
