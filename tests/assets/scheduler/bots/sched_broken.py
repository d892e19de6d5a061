"""Test bot for the scheduler: its source raises, so every run of it fails."""

from deskhand import Bot

bot = Bot("sched_broken")


@bot.source
def nothing(ctx):
    raise RuntimeError("the inbox share is gone")
    yield


@bot.process
def work(item, ctx):
    return ctx.done()
