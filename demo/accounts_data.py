"""Customer accounts of the demo: customers, their open invoices, and one month's bank
statement, each payment with what a careful clerk would do with it (the ground truth).

The legacy app seeds its customer accounts from CUSTOMERS and AR_INVOICES; demo/make_accounts.py
writes the statement (CSV and CAMT.053) and the AR ledger from PAYMENTS and LEDGER_CHANGES.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal


@dataclass(frozen=True)
class Customer:
    code: str
    name: str
    email: str
    address: str


@dataclass(frozen=True)
class ArInvoice:
    number: str
    customer: str  # code
    issued: date
    amount: Decimal

    @property
    def due(self) -> date:
        return self.issued + timedelta(days=30)


@dataclass(frozen=True)
class Payment:
    """A credit on the bank statement, and the outcome the ground truth expects."""

    bank_ref: str
    booked: date
    payer: str
    amount: Decimal
    remittance: str
    charges: Decimal = Decimal("0")
    expect: str = "done"  # done | needs_review
    allocations: tuple[tuple[str, str], ...] = ()  # (invoice, amount)
    adjustments: tuple[tuple[str, str, str], ...] = ()  # (invoice, kind, amount)
    why: str = ""  # the case, for people reading the truth file
    iban: str = field(default="")


CUSTOMERS = [
    Customer("C-1001", "Harbor Foods Ltd", "accounts@harborfoods.example", "3 Quay St, Bristol"),
    Customer("C-1002", "Kestrel Engineering GmbH", "ap@kestrel.example", "Werkstr. 12, Bremen"),
    Customer("C-1003", "Maple & Stone Interiors", "office@maplestone.example", "7 Mill Rd, York"),
    Customer("C-1004", "Orchid Dental Practice", "admin@orchid.example", "44 High St, Bath"),
    Customer("C-1005", "Silverline Logistics BV", "finance@silverline.example", "Kade 9, Delft"),
    Customer("C-1006", "Tideway Books", "hello@tideway.example", "2 Strand Ln, Hull"),
]


def _inv(number: str, customer: str, issued: str, amount: str) -> ArInvoice:
    return ArInvoice(number, customer, date.fromisoformat(issued), Decimal(amount))


AR_INVOICES = [
    _inv("AR-26-0101", "C-1001", "2026-10-01", "1250.00"),
    _inv("AR-26-0102", "C-1001", "2026-10-08", "480.00"),
    _inv("AR-26-0103", "C-1001", "2026-10-15", "915.40"),
    _inv("AR-26-0104", "C-1002", "2026-10-02", "3400.00"),
    _inv("AR-26-0105", "C-1002", "2026-10-09", "1200.00"),
    _inv("AR-26-0106", "C-1002", "2026-10-20", "760.00"),
    _inv("AR-26-0107", "C-1003", "2026-10-03", "640.00"),
    _inv("AR-26-0108", "C-1003", "2026-10-12", "640.00"),
    _inv("AR-26-0109", "C-1003", "2026-10-22", "295.50"),
    _inv("AR-26-0110", "C-1004", "2026-10-05", "1875.25"),
    _inv("AR-26-0111", "C-1004", "2026-10-19", "310.00"),
    _inv("AR-26-0112", "C-1005", "2026-10-06", "5230.00"),
    _inv("AR-26-0113", "C-1005", "2026-10-13", "2115.80"),
    _inv("AR-26-0114", "C-1005", "2026-10-27", "890.00"),
    _inv("AR-26-0115", "C-1006", "2026-10-07", "158.90"),
    _inv("AR-26-0116", "C-1006", "2026-10-21", "420.00"),
]


def _pay(ref, booked, payer, amount, remittance, **kw) -> Payment:
    return Payment(ref, date.fromisoformat(booked), payer, Decimal(amount), remittance, **kw)


PAYMENTS = [
    _pay(
        "TX-26110201",
        "2026-11-02",
        "Harbor Foods Ltd",
        "1250.00",
        "Invoice AR-26-0101",
        allocations=(("AR-26-0101", "1250.00"),),
        why="reference, exact amount",
    ),
    _pay(
        "TX-26110401",
        "2026-11-04",
        "HARBOR FOODS LTD",
        "480.00",
        "October delivery",
        allocations=(("AR-26-0102", "480.00"),),
        why="no reference; the one open invoice of this amount",
    ),
    _pay(
        "TX-26110501",
        "2026-11-05",
        "Kestrel Engineering GmbH",
        "4600.00",
        "AR26-0104 AR26 0105",
        allocations=(("AR-26-0104", "3400.00"), ("AR-26-0105", "1200.00")),
        why="combined payment, both referenced (written without dashes)",
    ),
    _pay(
        "TX-26110601",
        "2026-11-06",
        "Maple & Stone Interiors",
        "640.00",
        "payment",
        expect="needs_review",
        why="two open invoices of 640.00 and no reference: ambiguous",
    ),
    _pay(
        "TX-26110901",
        "2026-11-09",
        "Orchid Dental Practice",
        "1875.24",
        "AR-26-0110",
        allocations=(("AR-26-0110", "1875.24"),),
        adjustments=(("AR-26-0110", "rounding", "0.01"),),
        why="short by 0.01: rounding",
    ),
    _pay(
        "TX-26111001",
        "2026-11-10",
        "Silverline Logistics BV",
        "5217.50",
        "INV AR-26-0112",
        charges=Decimal("12.50"),
        allocations=(("AR-26-0112", "5217.50"),),
        adjustments=(("AR-26-0112", "bank_fee", "12.50"),),
        why="bank fee 12.50 reported, under the limit",
    ),
    _pay(
        "TX-26111101",
        "2026-11-11",
        "Silverline Logistics BV",
        "1000.00",
        "AR-26-0113 part payment",
        allocations=(("AR-26-0113", "1000.00"),),
        why="partial payment of a referenced invoice",
    ),
    _pay(
        "TX-26111201",
        "2026-11-12",
        "Tideway Books",
        "578.90",
        "thanks, two invoices",
        allocations=(("AR-26-0115", "158.90"), ("AR-26-0116", "420.00")),
        why="combined payment without reference: the only pair summing to the amount",
    ),
    _pay(
        "TX-26111301",
        "2026-11-13",
        "Kestrel Engineering GmbH",
        "700.00",
        "AR-26-0106",
        charges=Decimal("60.00"),
        expect="needs_review",
        why="bank fee 60.00 above the limit",
    ),
    _pay(
        "TX-26111601",
        "2026-11-16",
        "Orchid Dental Practice",
        "350.00",
        "AR-26-0111",
        expect="needs_review",
        why="overpayment by 40.00",
    ),
    _pay(
        "TX-26111701",
        "2026-11-17",
        "Unknown Trading Co",
        "999.00",
        '=HYPERLINK("http://x","consulting")',
        expect="needs_review",
        why="payer unknown, no reference (remittance is a formula attempt)",
    ),
    _pay(
        "TX-26111801",
        "2026-11-18",
        "Harbor Foods Ltd",
        "1250.00",
        "Invoice AR-26-0101",
        expect="needs_review",
        why="the invoice is paid already: a duplicate payment?",
    ),
    _pay(
        "TX-26111901",
        "2026-11-19",
        "Maple Stone Interiors Ltd",
        "295.50",
        "AR-26-0109",
        allocations=(("AR-26-0109", "295.50"),),
        why="payer name differs; the reference is unique",
    ),
]

# An outgoing payment on the same statement: a debit, which the bot must leave alone.
DEBITS = [_pay("TX-26111501", "2026-11-15", "Office Landlord Ltd", "2500.00", "Rent November")]

# The AR ledger (export of the old accounting system at 31 October) differs from the app here.
LEDGER_CHANGES = {
    "AR-26-0114": Decimal("980.00"),  # ledger amount differs from the app's 890.00
}
LEDGER_ONLY = [_inv("AR-26-0117", "C-1006", "2026-10-29", "75.00")]  # not in the app

SETTINGS = {"rounding_limit": "0.05", "bank_fee_limit": "15.00", "date_window_days": 60}
