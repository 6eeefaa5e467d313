"""``python -m metavoice_app`` runs the same command as ``metavoice``."""

import sys

from metavoice_app.cli import main

sys.exit(main())
