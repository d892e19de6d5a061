"""Test bot: one item of each outcome, and a secret it tries to leak."""

from deskhand import ApplicationError, Bot, BusinessError, vault

bot = Bot("flaky", max_attempts=3)


@bot.source
def items(ctx):
    for ref in ("ok", "flaky", "bad-data", "broken", "ok"):  # "ok" twice: queued once
        yield ctx.item(reference=ref)


@bot.process
def process(item, ctx):
    secret = vault.get("flaky_api")
    with ctx.step("use the secret", token=secret["token"], user=secret["username"]):
        ctx.info(f"calling the API with {secret['token']}")
    with ctx.step("work", reference=item.reference):
        if item.reference == "flaky" and ctx.attempt == 1:
            raise ApplicationError("the system hiccuped")
        if item.reference == "bad-data":
            raise BusinessError(f"amount is not a number (token {secret['token']})")
        if item.reference == "broken":
            raise ApplicationError(f"the system is down (token was {secret['token']})")
    return ctx.done(result=item.reference.upper(), attempt=ctx.attempt)
