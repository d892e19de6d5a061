"""Test bot for the scheduler: fast items, and items that wait, hang or crash on request.

Payload keys: ``marker`` (a file the step writes first), ``crash`` (the process exits at
once), ``hang`` (sleep for an hour), ``wait_for`` (a file the step waits for).
Its source queues one item per *.json file in --input (the file's object is the payload).
"""

import json
import os
import time
from pathlib import Path

from deskhand import ApplicationError, Bot

bot = Bot("sched_worker", max_attempts=3, retry_delay=0)


@bot.source
def files(ctx):
    if ctx.settings.input is None:
        return
    for path in sorted(ctx.input.glob("*.json")):
        yield ctx.item(reference=path.stem, **json.loads(path.read_text()))


@bot.process
def work(item, ctx):
    with ctx.step("work", reference=item.reference):
        if item.get("marker"):
            Path(item["marker"]).write_text(str(os.getpid()))
        if item.get("crash"):
            os._exit(7)
        if item.get("hang"):
            time.sleep(3600)
        deadline = time.monotonic() + 120
        while item.get("wait_for") and not Path(item["wait_for"]).exists():
            if time.monotonic() > deadline:
                raise ApplicationError("nobody said go within 120 s")
            time.sleep(0.05)
    return ctx.done(pid=os.getpid())
