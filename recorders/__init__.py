"""Recorders: do a task once by hand, get back a bot you can keep.

One module per kind of application. ``recorders.web`` records a task in Chromium and
writes ``bots/NAME.py`` (steps per page, elements by name, typed values as item fields,
log-ins from the vault) and ``selectors/NAME.yaml`` (ranked selectors per element).
Recorded bots read their --input rows with ``ctx.rows`` (``deskhand.spreadsheet``).
"""
