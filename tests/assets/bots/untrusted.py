"""Test bot: every text in its log is hostile HTML."""

from deskhand import Bot, BusinessError

bot = Bot("untrusted")
EVIL = "<script>alert('x')</script><img src=x onerror=alert(1)>"


@bot.source
def items(ctx):
    yield ctx.item(reference="evil-1", file=EVIL)
    yield ctx.item(reference="evil-2", file="fine.pdf")


@bot.process
def process(item, ctx):
    with ctx.step("read", text=EVIL):
        ctx.values("extracted", {"vendor": EVIL, "total": "12.00"})
        ctx.values("keyed", {"vendor": EVIL, "total": "12.00"})
        ctx.values("read_back", {"vendor": EVIL, "total": "13.00"})
        if item.reference == "evil-2":
            raise BusinessError(f"vendor {EVIL} unknown")
    return ctx.done(record=EVIL)
