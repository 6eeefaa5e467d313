"""Entry point of the packaged app: the same ``metavoice`` command as a source install.

With no arguments it opens the window; ``--selftest``, ``synth`` and the other
subcommands work from the bundle too.
"""

import multiprocessing
import sys

from metavoice_app.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()  # worker processes of a frozen app re-enter here
    sys.exit(main(sys.argv[1:]))
