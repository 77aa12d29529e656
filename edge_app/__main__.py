"""``python -m edge_app``: the same as the ``links-detector`` command."""

import sys

from edge_app.cli import main

sys.exit(main())
