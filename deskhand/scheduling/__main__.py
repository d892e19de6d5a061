"""``python -m deskhand.scheduling [--root PATH] [--list] [--once]``: as ``run_bot.py schedule``."""

import sys

from ..commands.schedule import main

sys.exit(main())
