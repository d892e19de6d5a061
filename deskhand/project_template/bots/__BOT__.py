"""__BOT__: check each row of the invoices sheet and record the good ones in a ledger.

Run it with ``deskhand run __BOT__`` (the sheet is ``input`` in pyproject.toml's
``[tool.deskhand]``; ``--input OTHER.csv`` reads another). Each row is one work item: a
row whose amount is not a positive number goes to review, the others are appended to
``ledger.csv`` beside the run's log. The report is in logs/__BOT__/<run-id>/report.html.

To key the rows into a web application instead, name its elements in
``selectors/<app>.yaml``, pass ``selectors="<app>"`` to Bot(...) and use ``ctx.web()``;
see deskhand's README ("Writing a bot").
"""

from __future__ import annotations

import csv
from decimal import Decimal, InvalidOperation

from deskhand import Bot, BusinessError

bot = Bot("__BOT__", queue="__BOT__", max_attempts=2)

COLUMNS = ("invoice", "vendor", "amount")


@bot.source
def rows(ctx):
    """One item per row of the input sheet, keyed by its invoice number."""
    for row in ctx.rows(COLUMNS):
        yield ctx.item(reference=row["invoice"], **row)


@bot.process
def record(item, ctx):
    """Check the row, then append it to the ledger."""
    with ctx.step("check amount", invoice=item["invoice"]):
        try:
            amount = Decimal(item["amount"])
        except InvalidOperation:
            raise BusinessError(f"amount {item['amount']!r} is not a number") from None
        if amount <= 0:
            raise BusinessError(f"amount {amount} is not positive")
        ctx.values("extracted", {"vendor": item["vendor"], "amount": str(amount)})
    with ctx.step("append to ledger", point_of_no_return=True):
        ledger = ctx.run_dir.parent / "ledger.csv"
        new = not ledger.exists()
        with ledger.open("a", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            if new:
                writer.writerow(COLUMNS)
            writer.writerow([item["invoice"], item["vendor"], f"{amount:.2f}"])
    return ctx.done(record=item["invoice"], amount=f"{amount:.2f}")
