"""Test bot: logs in to the legacy app, then looks for a button that is not there."""

from deskhand import Bot, vault

bot = Bot("web_failure", selectors="test_app", max_attempts=2)


@bot.source
def items(ctx):
    yield ctx.item(reference="only")


@bot.process
def process(item, ctx):
    app = ctx.web()
    secret = vault.get("legacy_ap")
    with ctx.step("log in"):
        app.goto("login")
        app["username"].fill(secret["username"])
        app["password"].fill(secret["password"])
    with ctx.step("press a missing button"):
        app["missing_button"].click()
    return ctx.done()
