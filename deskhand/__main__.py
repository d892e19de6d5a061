"""``python -m deskhand <command>``: the same as the ``deskhand`` command."""

import sys

from .cli import main

sys.exit(main())
