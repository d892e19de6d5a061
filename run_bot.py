#!/usr/bin/env python3
"""deskhand's command line: ``python run_bot.py --help``. Same as the ``deskhand`` command."""

import sys

from deskhand.cli import main

if __name__ == "__main__":
    sys.exit(main())
