"""``python -m cfaisearch``: the command line (needs ``pip install 'cfaisearch[cli]'``)."""

from __future__ import annotations

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
