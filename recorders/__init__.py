"""Recorders: do a task once by hand, get back a bot you can keep.

One module per kind of application. ``recorders.web`` records a task in Chromium and
writes ``bots/NAME.py`` and ``selectors/NAME.yaml`` (ranked selectors per element, each
checked for stability when recorded). Its parts: ``recording`` (events -> actions),
``forms`` (the whole submitted form: defaults, columns, key, record number), ``steps``
(steps and the point of no return), ``writer`` and ``botfile`` (the bot's text),
``codegen`` (all of it together). Recorded bots read their --input rows with ``ctx.rows``.
"""
