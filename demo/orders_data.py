"""The order desk of the demo: the product catalogue the legacy app seeds, and the orders
that arrive by e-mail (demo/make_orders.py writes them), each with its expected outcome."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Product:
    sku: str
    name: str
    price: Decimal
    stock: int


PRODUCTS = [
    Product("WID-100", "Steel widget, 40 mm", Decimal("4.20"), 500),
    Product("WID-200", "Steel widget, 80 mm", Decimal("6.90"), 300),
    Product("BRK-310", "Mounting bracket, galvanised", Decimal("12.50"), 120),
    Product("SCR-050", "Wood screws 5x50, box of 200", Decimal("9.80"), 80),
    Product("PNL-900", "Acoustic panel 60x60", Decimal("38.00"), 40),
    Product("LMP-020", "LED work lamp 20 W", Decimal("54.00"), 15),
    Product("GLV-007", "Work gloves, pair", Decimal("3.40"), 1000),
]

SHIPPER = "dispatch@swiftfreight.example"
ORDER_DESK = "orders@deskhand-demo.example"


@dataclass(frozen=True)
class Order:
    """One incoming e-mail and what the bot should make of it."""

    file: str  # the .eml name
    form: str  # pdf | xlsx | body | none
    customer: str  # code
    sender: str
    reference: str  # the customer's own order number (PO)
    ship_to: str
    lines: tuple[tuple[str, int], ...]
    expect: str = "done"  # done | needs_review
    why: str = ""


ORDERS = [
    Order(
        "01-harbor-pdf.eml",
        "pdf",
        "C-1001",
        "accounts@harborfoods.example",
        "HF-5521",
        "Harbor Foods Ltd, 3 Quay St, Bristol BS1 4DJ",
        (("WID-100", 120), ("BRK-310", 10), ("GLV-007", 50)),
        why="order as PDF",
    ),
    Order(
        "02-kestrel-xlsx.eml",
        "xlsx",
        "C-1002",
        "ap@kestrel.example",
        "KE-0091",
        "Kestrel Engineering GmbH, Werkstr. 12, 28195 Bremen",
        (("WID-200", 40), ("SCR-050", 6)),
        why="order as XLSX",
    ),
    Order(
        "03-tideway-body.eml",
        "body",
        "C-1006",
        "hello@tideway.example",
        "TB-77",
        "Tideway Books, 2 Strand Ln, Hull HU1 1AA",
        (("PNL-900", 4), ("LMP-020", 2)),
        why="order in the mail's text",
    ),
    Order(
        "04-orchid-unknown.eml",
        "body",
        "C-1004",
        "admin@orchid.example",
        "OD-310",
        "Orchid Dental Practice, 44 High St, Bath",
        (("WID-100", 10), ("XYZ-999", 1)),
        expect="needs_review",
        why="unknown product",
    ),
    Order(
        "05-silverline-stock.eml",
        "pdf",
        "C-1005",
        "finance@silverline.example",
        "SL-4400",
        "Silverline Logistics BV, Kade 9, Delft",
        (("LMP-020", 90),),
        expect="needs_review",
        why="more than in stock",
    ),
    Order(
        "06-harbor-resent.eml",
        "pdf",
        "C-1001",
        "accounts@harborfoods.example",
        "HF-5521",
        "Harbor Foods Ltd, 3 Quay St, Bristol BS1 4DJ",
        (("WID-100", 120), ("BRK-310", 10), ("GLV-007", 50)),
        why="the same order sent again: found, not keyed or mailed twice",
    ),
    Order(
        "08-kestrel-spoofed.eml",
        "body",
        "C-1002",
        "ap@kestrel-payments.example",
        "KE-0107",
        "Kestrel Engineering GmbH, Hafenweg 1, 28197 Bremen",
        (("LMP-020", 5),),
        expect="needs_review",
        why="sent from an address that is not the customer's",
    ),
    Order(
        "07-newsletter.eml",
        "none",
        "",
        "news@vendor.example",
        "",
        "",
        (),
        expect="needs_review",
        why="not an order",
    ),
]
