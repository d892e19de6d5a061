"""The bot that wrote this golden journal (see tests/golden/README.md)."""

from loguru import logger

from deskhand import ApplicationError, Bot, BusinessError

bot = Bot("mixed", max_attempts=2, retry_delay=0)


@bot.source
def items(ctx):
    for ref in ("ok", "bad-data", "broken", "recon", "stop-me"):
        yield ctx.item(reference=ref, file=f"in/{ref}.pdf")


@bot.process
def process(item, ctx):
    with ctx.step("read", ref=item.reference) as step:
        ctx.values("extracted", {"total": "12.50"})
        logger.info("read {}", item.reference)
        step.set(pages=1)
    ctx.key(item.reference)
    if item.reference == "bad-data":
        ctx.warning("the total differs from the lines", lines="12.00")
        raise BusinessError("the total does not add up")
    if item.reference == "broken":
        raise ApplicationError("the ledger is down")
    if item.reference == "recon":
        with ctx.step("save", point_of_no_return=True, record="R-1"):
            ctx.action("click", "save")
        raise ApplicationError("read back failed after the save")
    if item.reference == "stop-me":
        with ctx.step("work"):
            ctx.run.stop.set()  # as SIGTERM does: the step ends, the item goes back
    with ctx.step("key"):
        ctx.action("fill", "total", {"value": "12.50"})
        ctx.values("keyed", {"total": "12.50"})
        ctx.values("read_back", {"total": "12.50"})
    ctx.info("keyed", record="R-0")
    return ctx.done(record="R-0")


@bot.reconcile
def reconcile(item, ctx, checkpoint):
    return {"confirmed": checkpoint["outcome"]["record"]}
