"""``python -m deskhand.scheduling [--root PATH] [--list] [--once]``: as ``run_bot.py schedule``."""

import sys

from .cli import main

sys.exit(main())
