"""reconciliation.xlsx: summary, matched, unmatched payments, unmatched invoices,
discrepancies with their cause, and every invoice; balances recomputed by formulas."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from deskhand.workbook import Column, Workbook


def _money(text) -> Decimal | None:
    try:
        return Decimal(str(text).replace(",", ""))
    except InvalidOperation:
        return None


def write_report(
    path: Path, accounts: list[dict], outcomes: list[dict], ledger: list[dict]
) -> Path:
    """Write the workbook at ``path`` from the accounts read from the app, each payment's
    outcome and the AR ledger's rows; its path."""
    book = Workbook()
    f = Workbook.formula
    summary = book.sheet(
        "Summary",
        [
            Column("Customer", width=10),
            Column("Name", width=28),
            Column("Invoiced", "money", 14),
            Column("Paid", "money", 14),
            Column("Adjusted", "money", 14),
            Column("Balance", "money", 14),
            Column("Balance in app", "money", 16),
            Column("Difference", "money", 14),
        ],
    )
    invoices = book.sheet(
        "Invoices",
        [
            Column("Customer", width=10),
            Column("Invoice", width=14),
            Column("Date", "date", 12),
            Column("Due", "date", 12),
            Column("Amount", "money", 14),
            Column("Paid", "money", 14),
            Column("Adjusted", "money", 14),
            Column("Open", "money", 14),
            Column("Open in app", "money", 14),
        ],
    )
    for account in accounts:
        for inv in account["invoices"]:
            paid = sum(
                (a["amount"] for a in account["allocations"] if a["invoice"] == inv["number"]),
                Decimal(0),
            )
            adjusted = sum(
                (a["amount"] for a in account["adjustments"] if a["invoice"] == inv["number"]),
                Decimal(0),
            )
            invoices.row(
                [
                    account["code"],
                    inv["number"],
                    inv["issued"],
                    inv["due"],
                    inv["amount"],
                    paid,
                    adjusted,
                    f("=E{row}-F{row}-G{row}"),
                    inv["open"],
                ]
            )
        summary.row(
            [
                account["code"],
                account["name"],
                f("=SUMIFS(Invoices!E:E,Invoices!A:A,A{row})"),
                f("=SUMIFS(Invoices!F:F,Invoices!A:A,A{row})"),
                f("=SUMIFS(Invoices!G:G,Invoices!A:A,A{row})"),
                f("=C{row}-D{row}-E{row}"),
                account["balance"],
                f("=F{row}-G{row}"),
            ]
        )
    summary.row(
        ["Total", "", *(f(f"=SUM({c}{{first}}:{c}{{last}})") for c in "CDEFGH")], total=True
    )
    invoices.row(
        ["Total", "", None, None, *(f(f"=SUM({c}{{first}}:{c}{{last}})") for c in "EFGHI")],
        total=True,
    )

    matched = book.sheet(
        "Matched",
        [
            Column("Bank ref.", width=14),
            Column("Booked", "date", 12),
            Column("Payer", width=28),
            Column("Payment", "money", 14),
            Column("Customer", width=10),
            Column("Invoice", width=14),
            Column("Allocated", "money", 14),
            Column("How matched", width=34),
        ],
    )
    unmatched = book.sheet(
        "Unmatched payments",
        [
            Column("Bank ref.", width=14),
            Column("Booked", "date", 12),
            Column("Payer", width=28),
            Column("Amount", "money", 14),
            Column("Remittance", width=36),
            Column("Cause", width=18),
            Column("What to do", width=60),
            Column("Evidence", width=60),
        ],
    )
    discrepancies = book.sheet(
        "Discrepancies",
        [
            Column("Customer", width=10),
            Column("Invoice", width=14),
            Column("Bank ref.", width=14),
            Column("Cause", width=20),
            Column("Amount", "money", 14),
            Column("Action", width=22),
            Column("Detail", width=60),
        ],
    )
    for outcome in sorted(outcomes, key=lambda o: o["payment"]["bank_ref"]):
        p = outcome["payment"]
        booked = date.fromisoformat(p["booked"])
        if outcome["status"] == "done":
            for entry in filter(None, outcome["allocations"].split("; ")):
                number, amount = entry.rsplit(" ", 1)
                matched.row(
                    [
                        p["bank_ref"],
                        booked,
                        p["payer"],
                        _money(p["amount"]),
                        outcome["customer"],
                        number,
                        _money(amount),
                        outcome["how"],
                    ]
                )
            for entry in filter(None, outcome["adjustments"].split("; ")):
                number, kind, amount = entry.rsplit(" ", 2)
                discrepancies.row(
                    [
                        outcome["customer"],
                        number,
                        p["bank_ref"],
                        kind,
                        _money(amount),
                        "adjustment keyed",
                        f"payment {p['amount']} from {p['payer']}",
                    ]
                )
            continue
        evidence = "; ".join(f"{k}: {v}" for k, v in outcome.get("evidence", {}).items())
        unmatched.row(
            [
                p["bank_ref"],
                booked,
                p["payer"],
                _money(p["amount"]),
                p["remittance"],
                outcome["cause"],
                outcome["message"],
                evidence,
            ]
        )
        discrepancies.row(
            [
                "",
                "",
                p["bank_ref"],
                outcome["cause"],
                _money(p["amount"]),
                "sent to review",
                outcome["message"],
            ]
        )
    matched.row(["Total", None, None, None, None, None, f("=SUM(G{first}:G{last})")], total=True)

    open_sheet = book.sheet(
        "Unmatched invoices",
        [
            Column("Customer", width=10),
            Column("Invoice", width=14),
            Column("Date", "date", 12),
            Column("Due", "date", 12),
            Column("Amount", "money", 14),
            Column("Open", "money", 14),
            Column("Status", width=16),
        ],
    )
    app_invoices = {}
    for account in accounts:
        for inv in account["invoices"]:
            app_invoices[inv["number"]] = (account["code"], inv)
            if inv["open"] > 0:
                status = "partly paid" if inv["open"] < inv["amount"] else "unpaid"
                open_sheet.row(
                    [
                        account["code"],
                        inv["number"],
                        inv["issued"],
                        inv["due"],
                        inv["amount"],
                        inv["open"],
                        status,
                    ]
                )
    open_sheet.row(["Total", None, None, None, None, f("=SUM(F{first}:F{last})")], total=True)

    for row in ledger:
        number, amount = row["Invoice"], _money(row["Amount"])
        if number not in app_invoices:
            discrepancies.row(
                [
                    row["Customer"],
                    number,
                    "",
                    "ledger only",
                    amount,
                    "sent to review",
                    "in the AR ledger but not in the app: post it or correct the ledger",
                ]
            )
        elif amount != app_invoices[number][1]["amount"]:
            app_amount = app_invoices[number][1]["amount"]
            discrepancies.row(
                [
                    row["Customer"],
                    number,
                    "",
                    "ledger amount differs",
                    amount - app_amount,
                    "sent to review",
                    f"ledger {amount:.2f}, app {app_amount:.2f}",
                ]
            )
    in_ledger = {row["Invoice"] for row in ledger}
    for number, (code, inv) in sorted(app_invoices.items()):
        if ledger and number not in in_ledger:
            discrepancies.row(
                [
                    code,
                    number,
                    "",
                    "app only",
                    inv["amount"],
                    "sent to review",
                    "in the app but not in the AR ledger",
                ]
            )
    return book.save(path)
