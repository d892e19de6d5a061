"""Reconcile customer balances: match the bank statement's payments to open invoices, key
the allocations and the adjustments whose cause is unambiguous, and write reconciliation.xlsx.

--input is a folder with the bank statement(s) (CSV or CAMT.053 .xml; a payment in two
statements is queued once, by its bank reference), the AR ledger (.xlsx) and optionally
reconcile.toml (rounding_limit, bank_fee_limit, date_window_days, output). One item per
payment: find the customer (by an invoice number in the remittance text, else by name),
read the account, match, key each allocation and adjustment at its own point of no return
(checked against the account first, so nothing is keyed twice), read the account back.
What no rule decides goes to review with the evidence. A last item writes the workbook.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from bots._legacy_app import job_settings, open_app
from bots._matching import Plan, Review, digit_runs, match, name_key, read_statement, referenced
from bots._reconciliation_report import write_report
from deskhand import RESUME, ApplicationError, Bot, BusinessError
from deskhand.spreadsheet import read_rows

bot = Bot("reconcile_balances", queue="payments", selectors="legacy_ap", max_attempts=3)

DEFAULTS = {
    "rounding_limit": "0.05",
    "bank_fee_limit": "15.00",
    "date_window_days": 60,
    "output": "",
}


def settings(ctx) -> dict:
    values = job_settings(ctx.input, "reconcile.toml", DEFAULTS)
    values["output"] = str(
        Path(values["output"]) if values["output"] else ctx.run_dir.parent / "output"
    )
    return values


@bot.source
def statement(ctx):
    """One item per incoming payment of every statement in --input, then the report."""
    folder = ctx.input
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".csv", ".xml"))
    if not files:
        raise BusinessError(f"no bank statement (.csv or .xml) in {folder}")
    payments: dict[str, dict] = {}
    for path in files:
        for payment in read_statement(path):
            payments.setdefault(payment["bank_ref"], payment)
    for ref, payment in payments.items():
        yield ctx.item(reference=ref, name=f"payment {ref}", **payment)
    refs = sorted(payments)
    digest = hashlib.sha256("\n".join(refs).encode()).hexdigest()[:16]
    yield ctx.item(reference=f"report-{digest}", name="reconciliation.xlsx", report=refs)


@bot.process
def reconcile(item, ctx):
    if item.get("report"):
        return report(item, ctx)
    return settle(item, ctx, key=True)


@bot.reconcile
def keyed_before(item, ctx, checkpoint):
    """An attempt stopped while saving: done if the account shows every planned entry; else
    RESUME: the process runs again and keys only what the account does not show yet."""
    if item.get("report"):
        return None
    return settle(item, ctx, key=False) or RESUME


def settle(item, ctx, key: bool) -> dict | None:
    """Match one payment and key what is missing (``key``), or only report whether all is
    there already (``key=False``: the reconcile check, None when something is missing)."""
    conf = settings(ctx)
    payment = dict(item.payload)
    ctx.values(
        "extracted",
        {k: payment[k] for k in ("bank_ref", "booked", "payer", "amount", "remittance", "charges")},
    )
    app = open_app(ctx)
    try:
        with ctx.step("find customer", payer=payment["payer"]):
            code = find_customer(app, payment)
        with ctx.step("read account", customer=code):
            account = read_account(app, code)
        mine_alloc = [a for a in account["allocations"] if a["bank_ref"] == payment["bank_ref"]]
        mine_adj = [a for a in account["adjustments"] if a["bank_ref"] == payment["bank_ref"]]
        with ctx.step("match"):
            plan = match(payment, before_payment(account, mine_alloc, mine_adj), conf)
            ctx.values("keyed", describe_plan(plan))
    except Review as review:
        save_outcome(
            conf,
            payment,
            {
                "status": "review",
                "cause": review.cause,
                "message": str(review),
                "evidence": review.evidence,
            },
        )
        raise
    except BusinessError as error:
        save_outcome(
            conf,
            payment,
            {"status": "review", "cause": "customer", "message": str(error), "evidence": {}},
        )
        raise
    missing_alloc = unmatched(plan.allocations, [(a["invoice"], a["amount"]) for a in mine_alloc])
    missing_adj = unmatched(
        [(i, k, a) for i, k, a, _ in plan.adjustments],
        [(a["invoice"], a["kind"], a["amount"]) for a in mine_adj],
    )
    if not key:
        return None if (missing_alloc or missing_adj) else finish(ctx, conf, payment, code, plan)
    for invoice, amount in missing_alloc:
        with ctx.step(
            "allocate payment",
            point_of_no_return=True,
            invoice=invoice,
            amount=f"{amount:.2f}",
            bank_ref=payment["bank_ref"],
        ) as step:
            step.set(record=allocate(app, code, payment, invoice, amount))
    for invoice, kind, amount in missing_adj:
        reason = next(r for i, k, a, r in plan.adjustments if (i, k, a) == (invoice, kind, amount))
        with ctx.step(
            "key adjustment",
            point_of_no_return=True,
            invoice=invoice,
            kind=kind,
            amount=f"{amount:.2f}",
            reason=reason,
        ) as step:
            step.set(record=adjust(app, code, payment, invoice, kind, amount, reason))
    with ctx.step("read back", customer=code):
        account = read_account(app, code)
        ctx.values("read_back", check_keyed(account, payment, plan))
    return finish(ctx, conf, payment, code, plan)


def finish(ctx, conf, payment, code, plan: Plan) -> dict:
    outcome = {"status": "done", "customer": code, "how": plan.how, **describe_plan(plan)}
    save_outcome(conf, payment, outcome)
    return ctx.done(customer=code, how=plan.how, **describe_plan(plan))


def describe_plan(plan: Plan) -> dict:
    return {
        "allocations": "; ".join(f"{i} {a:.2f}" for i, a in sorted(plan.allocations)),
        "adjustments": "; ".join(
            f"{i} {k} {a:.2f}" for i, k, a in sorted((i, k, a) for i, k, a, _ in plan.adjustments)
        ),
    }


def unmatched(wanted: list[tuple], present: list[tuple]) -> list[tuple]:
    """The wanted entries the account does not show yet (each present entry counts once)."""
    left = list(present)
    missing = []
    for entry in wanted:
        if entry in left:
            left.remove(entry)
        else:
            missing.append(entry)
    return missing


def before_payment(account: dict, allocations: list[dict], adjustments: list[dict]) -> list[dict]:
    """The invoices as they were before this payment was keyed (its entries added back), so
    that a rerun plans exactly what the first run planned."""
    back: dict[str, Decimal] = {}
    for entry in [*allocations, *adjustments]:
        back[entry["invoice"]] = back.get(entry["invoice"], Decimal(0)) + entry["amount"]
    return [
        {**i, "open": i["open"] + back.get(i["number"], Decimal(0))} for i in account["invoices"]
    ]


def check_keyed(account: dict, payment: dict, plan: Plan) -> dict:
    """What the account shows for this payment; BusinessError unless it is the plan."""
    ref = payment["bank_ref"]
    alloc = sorted(
        (a["invoice"], a["amount"]) for a in account["allocations"] if a["bank_ref"] == ref
    )
    adj = sorted(
        (a["invoice"], a["kind"], a["amount"])
        for a in account["adjustments"]
        if a["bank_ref"] == ref
    )
    ctx_values = {
        "allocations": "; ".join(f"{i} {a:.2f}" for i, a in alloc),
        "adjustments": "; ".join(f"{i} {k} {a:.2f}" for i, k, a in adj),
    }
    if alloc != sorted(plan.allocations) or adj != sorted(
        (i, k, a) for i, k, a, _ in plan.adjustments
    ):
        raise BusinessError(f"the account does not show what was keyed for {ref}: {ctx_values}")
    return ctx_values


def save_outcome(conf: dict, payment: dict, outcome: dict) -> None:
    folder = Path(conf["output"]) / "outcomes"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{payment['bank_ref']}.json"
    partial = path.with_suffix(".part")
    partial.write_text(json.dumps({"payment": payment, **outcome}, indent=1, default=str))
    partial.replace(path)


# -- the legacy app's customer accounts -----------------------------------------------------
def find_customer(app, payment: dict) -> str:
    """The customer's code: from the invoices the remittance names, else by the payer name."""
    owners: set[str] = set()
    for run in digit_runs(payment["remittance"]):
        app.goto(f"accounts/invoices?q={run}")
        for row in app.rows("invoice_results"):
            if referenced(payment["remittance"], [row["number"]]):
                owners.add(row["customer_code"])
    if len(owners) > 1:
        raise BusinessError(
            f"the remittance names invoices of several customers ({', '.join(sorted(owners))})"
        )
    if owners:
        return owners.pop()
    app.goto("accounts")
    app["customer_query"].fill(payment["payer"])
    with app.expect_navigation():
        app["customer_find"].click()
    same = [
        row["code"]
        for row in app.rows("customers")
        if name_key(row["name"]) == name_key(payment["payer"])
    ]
    if len(same) != 1:
        raise Review(
            "unknown payer",
            f"payer '{payment['payer']}' is no customer and the "
            "remittance names no invoice: find the customer by hand",
            {
                "payment": f"{payment['bank_ref']} {payment['amount']}",
                "remittance": payment["remittance"],
            },
        )
    return same[0]


def read_account(app, code: str) -> dict:
    app.goto(f"accounts/{code}")
    if not app["account_balance"].exists():
        raise ApplicationError(f"the account page of {code} did not load")

    invoices = [
        {
            "number": row["number"],
            "issued": us(row["issued"]),
            "due": us(row["due"]),
            "amount": Decimal(row["amount"]),
            "open": Decimal(row["open"]),
        }
        for row in app.rows("account_invoices")
    ]
    allocations = [
        {k: row[k] for k in ("number", "bank_ref", "invoice")} | {"amount": Decimal(row["amount"])}
        for row in app.rows("account_allocations")
    ]
    adjustments = [
        {k: row[k] for k in ("number", "invoice", "kind", "bank_ref", "reason")}
        | {"amount": Decimal(row["amount"])}
        for row in app.rows("account_adjustments")
    ]
    return {
        "code": code,
        "name": app["account_name"].text(),
        "balance": Decimal(app["account_balance"].text()),
        "invoices": invoices,
        "allocations": allocations,
        "adjustments": adjustments,
    }


def us(text: str) -> date:
    return datetime.strptime(text, "%m/%d/%Y").date()


def allocate(app, code: str, payment: dict, invoice: str, amount: Decimal) -> str:
    app.goto(f"accounts/{code}/allocate")
    app["alloc_bank_ref"].fill(payment["bank_ref"])
    app["alloc_paid_on"].fill(date.fromisoformat(payment["booked"]).strftime("%m/%d/%Y"))
    app["alloc_invoice"].select(value=invoice)
    app["alloc_amount"].fill(f"{amount:.2f}")
    return submit(app, "alloc_button", f"Allocate {amount:.2f} to invoice {invoice}")


def adjust(app, code, payment, invoice: str, kind: str, amount: Decimal, reason: str) -> str:
    app.goto(f"accounts/{code}/adjust")
    app["adj_invoice"].select(value=invoice)
    app["adj_kind"].select(value=kind)
    app["adj_amount"].fill(f"{amount:.2f}")
    app["adj_reason"].fill(reason)
    app["adj_bank_ref"].fill(payment["bank_ref"])
    return submit(app, "adj_button", f"Credit {amount:.2f} to invoice {invoice}")


def submit(app, button: str, confirm: str) -> str:
    with app.expect_navigation():
        with app.accept_dialog(expect=confirm):
            app[button].click()
    if app["entry_errors"].exists():
        raise BusinessError("the legacy app refused the entry: " + app["entry_errors"].text())
    if not app["entry_number"].exists():
        raise ApplicationError("no confirmation after saving: the entry may or may not be saved")
    return app["entry_number"].text()


# -- the report -------------------------------------------------------------------------------
def report(item, ctx) -> dict:
    """reconciliation.xlsx from every payment's outcome and every customer's account."""
    conf = settings(ctx)
    folder = Path(conf["output"])
    outcomes = {}
    for ref in item["report"]:
        path = folder / "outcomes" / f"{ref}.json"
        if path.is_file():
            outcomes[ref] = json.loads(path.read_text())
    missing = [r for r in item["report"] if r not in outcomes]
    if missing:
        raise ApplicationError(
            f"{len(missing)} payment(s) not reconciled yet ({', '.join(missing[:3])})"
        )
    ledgers = sorted(p for p in ctx.input.iterdir() if p.suffix.lower() == ".xlsx")
    with ctx.step("read AR ledger", files=[p.name for p in ledgers]):
        ledger = [row for p in ledgers for row in read_rows(p, ("Customer", "Invoice", "Amount"))]
    app = open_app(ctx)
    with ctx.step("read every account"):
        app.goto("accounts")
        codes = [row["code"] for row in app.rows("customers")]
        accounts = [read_account(app, code) for code in codes]
    with ctx.step("write reconciliation.xlsx") as step:
        path = write_report(
            folder / "reconciliation.xlsx", accounts, list(outcomes.values()), ledger
        )
        step.set(path=str(path))
    return ctx.done(workbook=str(path), payments=len(outcomes))
