"""Make the reconciliation job's inputs and their ground truth (python -m demo.make_accounts).

Writes into demo/accounts/ (or the folder given): the November bank statement twice, as
the bank exports it in two formats (statement-2026-11.xml: CAMT.053; statement-2026-11.csv),
the AR ledger at 31 October (ar-ledger.xlsx) and truth.json, what a careful clerk would do
with every payment. A payment appears in both statements under one bank reference: the bot
queues it once.
"""

from __future__ import annotations

import csv
import json
import sys
from decimal import Decimal
from pathlib import Path
from xml.etree import ElementTree as ET

from demo.accounts_data import (
    AR_INVOICES,
    CUSTOMERS,
    DEBITS,
    LEDGER_CHANGES,
    LEDGER_ONLY,
    PAYMENTS,
    SETTINGS,
)
from deskhand.workbook import Column, Workbook

CAMT = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"
OWN_IBAN = "DE89370400440532013000"
CURRENCY = "EUR"
DEFAULT_FOLDER = Path(__file__).resolve().parent / "accounts"


def entries():
    return sorted([*PAYMENTS, *DEBITS], key=lambda p: (p.booked, p.bank_ref))


def write_csv(path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(
            [
                "Booking date",
                "Amount",
                "Currency",
                "Counterparty",
                "Remittance",
                "Bank reference",
                "Charges",
            ]
        )
        for p in entries():
            sign = "-" if p in DEBITS else ""
            writer.writerow(
                [
                    p.booked.isoformat(),
                    f"{sign}{p.amount:.2f}",
                    CURRENCY,
                    p.payer,
                    p.remittance,
                    p.bank_ref,
                    f"{p.charges:.2f}" if p.charges else "",
                ]
            )


def write_camt(path: Path) -> None:
    ET.register_namespace("", CAMT)

    def sub(parent, tag, text=None, **attrs):
        el = ET.SubElement(parent, f"{{{CAMT}}}{tag}", attrs)
        if text is not None:
            el.text = text
        return el

    doc = ET.Element(f"{{{CAMT}}}Document")
    stmt = sub(sub(doc, "BkToCstmrStmt"), "Stmt")
    sub(stmt, "Id", "STMT-2026-11")
    sub(stmt, "CreDtTm", "2026-11-30T18:00:00")
    sub(sub(sub(stmt, "Acct"), "Id"), "IBAN", OWN_IBAN)
    for p in entries():
        ntry = sub(stmt, "Ntry")
        sub(ntry, "Amt", f"{p.amount:.2f}", Ccy=CURRENCY)
        sub(ntry, "CdtDbtInd", "DBIT" if p in DEBITS else "CRDT")
        sub(ntry, "Sts", "BOOK")
        sub(sub(ntry, "BookgDt"), "Dt", p.booked.isoformat())
        sub(sub(ntry, "ValDt"), "Dt", p.booked.isoformat())
        sub(ntry, "AcctSvcrRef", p.bank_ref)
        if p.charges:
            sub(sub(ntry, "Chrgs"), "Amt", f"{p.charges:.2f}", Ccy=CURRENCY)
        tx = sub(sub(ntry, "NtryDtls"), "TxDtls")
        party = "Cdtr" if p in DEBITS else "Dbtr"
        sub(sub(sub(tx, "RltdPties"), party), "Nm", p.payer)
        sub(sub(tx, "RmtInf"), "Ustrd", p.remittance)
    ET.indent(doc)
    ET.ElementTree(doc).write(path, encoding="utf-8", xml_declaration=True)


def write_ledger(path: Path) -> None:
    names = {c.code: c.name for c in CUSTOMERS}
    book = Workbook()
    sheet = book.sheet(
        "AR ledger",
        [
            Column("Customer", width=10),
            Column("Customer name", width=28),
            Column("Invoice", width=14),
            Column("Invoice date", "date"),
            Column("Due date", "date"),
            Column("Amount", "money"),
            Column("Open", "money"),
        ],
    )
    for inv in [*AR_INVOICES, *LEDGER_ONLY]:
        amount = LEDGER_CHANGES.get(inv.number, inv.amount)
        sheet.row(
            [inv.customer, names[inv.customer], inv.number, inv.issued, inv.due, amount, amount]
        )
    book.save(path)


def truth() -> dict:
    balances = {c.code: Decimal("0") for c in CUSTOMERS}
    for inv in AR_INVOICES:
        balances[inv.customer] += inv.amount
    owner = {inv.number: inv.customer for inv in AR_INVOICES}
    for p in PAYMENTS:
        for number, amount in p.allocations:
            balances[owner[number]] -= Decimal(amount)
        for number, _, amount in p.adjustments:
            balances[owner[number]] -= Decimal(amount)
    return {
        "settings": SETTINGS,
        "payments": {
            p.bank_ref: {
                "status": p.expect,
                "allocations": [list(a) for a in p.allocations],
                "adjustments": [list(a) for a in p.adjustments],
                "why": p.why,
            }
            for p in PAYMENTS
        },
        "debits": [p.bank_ref for p in DEBITS],
        "balances": {code: f"{value:.2f}" for code, value in balances.items()},
        "ledger_differences": sorted([*LEDGER_CHANGES, *(i.number for i in LEDGER_ONLY)]),
    }


def make(folder: Path = DEFAULT_FOLDER) -> Path:
    """Write every input and truth.json into ``folder``; the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    write_camt(folder / "statement-2026-11.xml")
    write_csv(folder / "statement-2026-11.csv")
    write_ledger(folder / "ar-ledger.xlsx")
    (folder / "truth.json").write_text(json.dumps(truth(), indent=2) + "\n")
    return folder


if __name__ == "__main__":
    print(f"wrote {make(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_FOLDER)}")
