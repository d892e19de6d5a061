"""Make the order desk's incoming e-mails and their ground truth (python -m demo.make_orders).

Writes demo/orders/inbox/*.eml (or into the folder given): each order as a PDF attachment,
an XLSX attachment or in the mail's text (see demo.orders_data.ORDERS), and truth.json.
"""

from __future__ import annotations

import io
import json
import sys
from email.message import EmailMessage
from pathlib import Path

from demo.accounts_data import CUSTOMERS
from demo.orders_data import ORDER_DESK, ORDERS, PRODUCTS, Order
from deskhand.workbook import Column, Workbook

DEFAULT_FOLDER = Path(__file__).resolve().parent / "orders"
NAMES = {p.sku: p.name for p in PRODUCTS}
CUSTOMER_NAMES = {c.code: c.name for c in CUSTOMERS}


def order_text(order: Order) -> str:
    rows = [
        f"{sku:<10} {qty:>5}   {NAMES.get(sku, 'see our catalogue')}" for sku, qty in order.lines
    ]
    return "\n".join([
        "PURCHASE ORDER",
        f"Customer: {order.customer} {CUSTOMER_NAMES[order.customer]}",
        f"Order reference: {order.reference}",
        f"Ship to: {order.ship_to}",
        "",
        f"{'SKU':<10} {'Qty':>5}   Description",
        *rows,
    ])  # fmt: skip


def order_pdf(order: Order) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, invariant=1)
    c.setTitle(f"Purchase order {order.reference}")
    y = 800
    for n, line in enumerate(order_text(order).splitlines()):
        c.setFont("Helvetica-Bold" if n == 0 else "Courier", 14 if n == 0 else 10)
        c.drawString(60, y, line)
        y -= 22 if n == 0 else 15
    c.showPage()
    c.save()
    return buf.getvalue()


def order_xlsx(order: Order) -> bytes:
    book = Workbook()
    sheet = book.sheet(
        "Order",
        [Column("Customer"), Column("Order reference"), Column("Ship to", width=40),
         Column("SKU"), Column("Quantity", "integer")],
    )  # fmt: skip
    for sku, qty in order.lines:
        sheet.row([order.customer, order.reference, order.ship_to, sku, qty])
    return book.to_bytes()


def message(order: Order, n: int) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = order.sender
    msg["To"] = ORDER_DESK
    msg["Subject"] = f"Purchase order {order.reference}" if order.reference else "Our spring offers"
    msg["Date"] = f"Mon, 30 Nov 2026 0{n % 10}:15:00 +0000"
    msg["Message-ID"] = f"<{Path(order.file).stem}@{order.sender.split('@')[1]}>"
    if order.form == "body":
        msg.set_content(
            "Hello,\n\nplease deliver the following.\n\n" + order_text(order) + "\n\nThanks"
        )
    elif order.form == "none":
        msg.set_content("Dear customer,\n\nour spring offers are here: 20 % off lamps.\n")
    else:
        msg.set_content(f"Hello,\n\nour purchase order {order.reference} is attached.\n\nRegards")
        if order.form == "pdf":
            data, mime, name = order_pdf(order), ("application", "pdf"), "pdf"
        else:
            data = order_xlsx(order)
            mime = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
            name = "xlsx"
        msg.add_attachment(data, maintype=mime[0], subtype=mime[1],
                           filename=f"PO-{order.reference}.{name}")  # fmt: skip
    return msg


def truth() -> dict:
    return {
        o.file: {"status": o.expect, "customer": o.customer, "reference": o.reference,
                 "lines": [list(line) for line in o.lines], "why": o.why}
        for o in ORDERS
    }  # fmt: skip


def make(folder: Path = DEFAULT_FOLDER) -> Path:
    """Write inbox/*.eml and truth.json into ``folder``; the inbox folder."""
    inbox = folder / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    for n, order in enumerate(ORDERS, 1):
        (inbox / order.file).write_bytes(bytes(message(order, n)))
    (folder / "truth.json").write_text(json.dumps(truth(), indent=2) + "\n")
    return inbox


if __name__ == "__main__":
    print(f"wrote {make(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_FOLDER)}")
