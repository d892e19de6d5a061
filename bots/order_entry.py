"""Key orders that arrive by e-mail into the legacy order system, then mail the customer and
the shipper.

--input is a folder of .eml files, or a folder holding order_entry.toml with imap_host set
(the mailbox is then read over IMAP; credentials: vault secret ``mailbox``). The order is a
PDF or XLSX attachment or in the mail's text. For each mail: read the order, check the
customer, products and quantities against the app's catalogue (unknown product or too few
in stock: review), key the order (lines row by row through the product lookup), read it
back, then send the confirmation (order PDF attached) and the shipping request, each at its
own point of no return through the outbox: a mail is never sent twice.
"""

from __future__ import annotations

import hashlib
import io
import re
import tempfile
from email.utils import parseaddr
from pathlib import Path

from bots._legacy_app import job_settings, open_app
from deskhand import RESUME, ApplicationError, Bot, BusinessError, mail, vault
from deskhand.spreadsheet import read_rows

bot = Bot("order_entry", queue="orders", selectors="legacy_ap", max_attempts=3)

DEFAULTS = {
    "smtp_host": "127.0.0.1",
    "smtp_port": 25,
    "smtp_login": False,
    "smtp_starttls": False,
    "sender": "orders@deskhand-demo.example",
    "shipper": "dispatch@swiftfreight.example",
    "imap_host": "",
    "imap_port": 993,
    "imap_ssl": True,
    "imap_mailbox": "INBOX",
    "outbox": "",
}
KEYED = ("customer", "reference", "ship_to")
ORDER_COLUMNS = ("Customer", "Order reference", "Ship to", "SKU", "Quantity")
LABELS = {
    "customer": "customer",
    "order reference": "reference",
    "po number": "reference",
    "ship to": "ship_to",
}


def settings(ctx) -> dict:
    folder = ctx.input if ctx.input.is_dir() else ctx.input.parent
    conf = job_settings(folder, "order_entry.toml", DEFAULTS)
    conf["outbox"] = conf["outbox"] or str(ctx.run_dir.parent / "outbox.db")
    return conf


@bot.source
def mailbox(ctx):
    """One item per e-mail (reference: its Message-ID), from the folder or the IMAP box."""
    conf = settings(ctx)
    if conf["imap_host"]:
        secret = vault.get("mailbox")
        messages = mail.read_imap(
            conf["imap_host"],
            int(conf["imap_port"]),
            secret["username"],
            secret["password"],
            conf["imap_mailbox"],
            bool(conf["imap_ssl"]),
        )
    else:
        messages = mail.read_folder(ctx.input)
    spool = Path(conf["outbox"]).parent / "incoming"
    spool.mkdir(parents=True, exist_ok=True)
    for message in messages:
        raw = bytes(message.message)
        path = spool / f"{hashlib.sha256(raw).hexdigest()[:24]}.eml"
        if not path.exists():
            path.write_bytes(raw)
        yield ctx.item(
            reference=message.message_id,
            file=str(path),
            name=f"{message.source}: {message.subject}"[:120],
        )


@bot.process
def enter_order(item, ctx):
    conf = settings(ctx)
    order = read_order(item, ctx)
    app = open_app(ctx)
    with ctx.step("check customer and catalogue", customer=order["customer"]):
        check_order(app, order)
    with ctx.step("check not already entered", reference=order["reference"]):
        order_no = find_order(app, order)
    if order_no:
        ctx.info(f"order {order['reference']} is in the system already as {order_no}")
    else:
        with ctx.step("fill order form", lines=len(order["lines"])):
            ctx.values("keyed", {k: v for k, v in flat(order).items() if k != "sender"})
            fill_order(app, order)
        with ctx.step(
            "save order",
            point_of_no_return=True,
            reference=order["reference"],
            customer=order["customer"],
        ) as step:
            order_no = save_order(app, order)
            step.set(record=order_no)
    with ctx.step("read back", record=order_no):
        saved = read_order_page(app, order_no)
        ctx.values("read_back", {k: v for k, v in flat(saved).items() if k in KEYED or " " in k})
        compare(order, saved, order_no)
        pdf = app.pdf()
    outbox = mail.Outbox(conf["outbox"])
    sent = {}
    for purpose, message in messages(conf, saved, pdf):
        key = f"{order_no}/{purpose}"
        with ctx.step(
            f"send {purpose}", point_of_no_return=True, key=key, to=message["To"]
        ) as step:
            sent[purpose] = outbox.send(message, key=key, **smtp(conf))
            step.set(message_id=sent[purpose])
    return ctx.done(record=order_no, **{f"{p}_message_id": m for p, m in sent.items()})


@bot.reconcile
def saved_or_sent(item, ctx, checkpoint):
    """The app holds the order and the outbox both mails: done. The order but not both
    mails: RESUME, the process runs again; it finds the order instead of keying it and skips
    what the outbox says went out. No order: None (not saved yet, or lost: see the runner)."""
    order = read_order(item, ctx)
    app = open_app(ctx)
    with ctx.step("look for the order", reference=order["reference"]):
        order_no = find_order(app, order)
    if not order_no:
        return None
    outbox = mail.Outbox(settings(ctx)["outbox"])
    states = {p: outbox.get(f"{order_no}/{p}") for p in ("confirmation", "shipping request")}
    if all(s and s["state"] == "sent" for s in states.values()):
        return ctx.done(
            record=order_no,
            already_entered=True,
            **{f"{p}_message_id": s["message_id"] for p, s in states.items()},
        )
    return RESUME


def smtp(conf: dict) -> dict:
    login = None
    if conf["smtp_login"]:
        secret = vault.get("smtp")
        login = (secret["username"], secret["password"])
    return {
        "host": conf["smtp_host"],
        "port": int(conf["smtp_port"]),
        "login": login,
        "starttls": bool(conf["smtp_starttls"]),
    }


# -- reading the order ---------------------------------------------------------------------
def read_order(item, ctx) -> dict:
    with ctx.step("read order", file=item.get("name")):
        incoming = mail.parse(Path(item.file).read_bytes(), item.get("name", ""))
        order = order_from(incoming)
        order["sender"] = parseaddr(incoming.sender)[1]
        ctx.values("extracted", flat(order))
    return order


def order_from(incoming: mail.Incoming) -> dict:
    """The order in the mail: a PDF or XLSX attachment first, else the mail's text."""
    for name, content in incoming.attachments():
        suffix = Path(name).suffix.lower()
        if suffix == ".pdf":
            import pdfplumber

            with pdfplumber.open(io.BytesIO(content)) as pdf:
                text = "\n".join(page.extract_text() or "" for page in pdf.pages)
            return checked(parse_text(text), name)
        if suffix == ".xlsx":
            return checked(parse_rows(content, name), name)
    return checked(parse_text(incoming.body()), "the mail's text")


def checked(order: dict, where: str) -> dict:
    missing = [k for k in ("customer", "reference", "ship_to") if not order.get(k)]
    if not order["lines"] or missing:
        what = ", ".join(missing + ([] if order["lines"] else ["order lines"]))
        raise BusinessError(f"no complete order in {where} ({what} missing): key it by hand")
    return order


def parse_text(text: str) -> dict:
    """Labelled fields (Customer:, Order reference:, Ship to:) and the rows under the
    'SKU Qty' header: a product code, then a whole quantity."""
    order: dict = {"customer": "", "reference": "", "ship_to": "", "lines": []}
    in_lines = False
    for line in text.splitlines():
        label, sep, value = line.partition(":")
        key = LABELS.get(label.strip().casefold())
        if sep and key and not in_lines:
            order[key] = (
                value.strip().split()[0] if key == "customer" and value.strip() else value.strip()
            )
            continue
        tokens = line.split()
        if [t.casefold() for t in tokens[:2]] == ["sku", "qty"]:
            in_lines = True
        elif in_lines and len(tokens) >= 2 and tokens[1].isdigit():
            order["lines"].append((tokens[0], int(tokens[1])))
        elif in_lines and tokens:
            in_lines = False
    return order


def parse_rows(content: bytes, name: str) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "order.xlsx"
        path.write_bytes(content)
        rows = read_rows(path, ORDER_COLUMNS)
    firsts = rows[0] if rows else {}
    if any(
        r["Customer"] != firsts["Customer"] or r["Order reference"] != firsts["Order reference"]
        for r in rows
    ):
        raise BusinessError(f"{name} holds more than one order: split it by hand")
    lines = []
    for n, r in enumerate(rows, 2):
        if not re.fullmatch(r"\d+", r["Quantity"]):
            raise BusinessError(f"{name} row {n}: quantity '{r['Quantity']}' is not a whole number")
        lines.append((r["SKU"], int(r["Quantity"])))
    return {
        "customer": firsts.get("Customer", ""),
        "reference": firsts.get("Order reference", ""),
        "ship_to": firsts.get("Ship to", ""),
        "lines": lines,
    }


def flat(order: dict) -> dict:
    values = {k: v for k, v in order.items() if k != "lines"}
    for n, (sku, qty) in enumerate(order["lines"], 1):
        values[f"line {n}"] = f"{sku} x {qty}"
    return values


# -- the legacy app ------------------------------------------------------------------------
def check_order(app, order: dict) -> None:
    app.goto(f"accounts?q={order['customer']}")
    emails = {row["code"]: row["email"] for row in app.rows("customers")}
    if order["customer"] not in emails:
        raise BusinessError(f"customer '{order['customer']}' is not in the legacy app")
    if order["sender"] and order["sender"].casefold() != emails[order["customer"]].casefold():
        raise BusinessError(
            f"the order for {order['customer']} came from {order['sender']}, not the customer's "
            f"address on file ({emails[order['customer']]}): confirm it with the customer"
        )
    app.goto("products")
    stock = {row["sku"]: int(row["stock"]) for row in app.rows("products")}
    unknown = [sku for sku, _ in order["lines"] if sku not in stock]
    if unknown:
        raise BusinessError(f"unknown product(s) {', '.join(unknown)}: not in the catalogue")
    short = [
        f"{sku} ({qty} ordered, {stock[sku]} in stock)"
        for sku, qty in order["lines"]
        if qty > stock[sku]
    ]
    if short:
        raise BusinessError("not enough in stock: " + "; ".join(short))


def find_order(app, order: dict) -> str | None:
    app.goto("orders/search")
    app["order_query"].fill(order["reference"])
    with app.expect_navigation():
        app["order_search"].click()
    row = app.find_row(
        "order_results", customer_code=order["customer"], customer_ref=order["reference"]
    )
    return row["order_no"] if row else None


def fill_order(app, order: dict) -> None:
    app.goto("orders/new")
    app["order_customer"].select(value=order["customer"])
    app["order_reference"].fill(order["reference"])
    app["order_ship_to"].fill(order["ship_to"])
    for n, (sku, qty) in enumerate(order["lines"], 1):
        if n > 1:
            app["order_add_line"].click()
        with app.expect_popup() as popup:
            app.element("order_line_lookup", n=n).click()
        lookup = popup.value
        lookup["product_query"].fill(sku)
        with lookup.expect_navigation():
            lookup["product_find"].click()
        with lookup.expect_close():
            lookup.element("product_select", sku=sku).click()
        chosen = app.element("order_line_sku", n=n).value()
        if chosen != sku:
            raise ApplicationError(f"the product lookup chose '{chosen}' for line {n}, not {sku}")
        app.element("order_line_quantity", n=n).fill(str(qty))


def save_order(app, order: dict) -> str:
    with app.expect_navigation():
        with app.accept_dialog(expect=f"Save order {order['reference']}"):
            app["order_save"].click()
    if app["entry_errors"].exists():
        raise BusinessError("the legacy app refused the order: " + app["entry_errors"].text())
    if not app["order_number"].exists():
        raise ApplicationError("no confirmation after Save order: it may or may not be saved")
    return app["order_number"].text()


def read_order_page(app, order_no: str) -> dict:
    app.goto(f"orders/{order_no}")
    lines = [(row["sku"], int(row["quantity"])) for row in app.rows("view_order_lines")]
    return {
        "customer": app["view_order_customer_code"].text(),
        "reference": app["view_order_reference"].text(),
        "ship_to": app["view_order_ship_to"].text(),
        "lines": lines,
        "order_no": order_no,
        "email": app["view_order_email"].text(),
        "name": app["view_order_customer"].text(),
        "total": app["view_order_total"].text(),
    }


def compare(order: dict, saved: dict, order_no: str) -> None:
    wrong = [
        f"{k} keyed '{order[k]}' but saved '{saved[k]}'"
        for k in ("customer", "reference", "ship_to", "lines")
        if order[k] != saved[k]
    ]
    if wrong:
        raise BusinessError(f"order {order_no} does not match what was keyed: " + "; ".join(wrong))


# -- the two e-mails -----------------------------------------------------------------------
def messages(conf: dict, saved: dict, pdf: bytes):
    no = saved["order_no"]
    lines = "\n".join(f"  {sku:<10} {qty:>5}" for sku, qty in saved["lines"])
    yield (
        "confirmation",
        mail.compose(
            conf["sender"],
            [saved["email"]],
            f"Order confirmation {no} (your ref. {saved['reference']})",
            f"Dear {saved['name']},\n\nthank you for your order {saved['reference']}, "
            f"entered as {no}.\n"
            f"Total: {saved['total']}\n\n{lines}\n\nIt ships to:\n{saved['ship_to']}\n\n"
            "The order is attached as a PDF.\n",
            key=f"{no}/confirmation",
            attachments=[(f"order-{no}.pdf", pdf, "application/pdf")],
        ),
    )
    yield (
        "shipping request",
        mail.compose(
            conf["sender"],
            [conf["shipper"]],
            f"Shipping request {no}",
            f"Please collect and deliver order {no}.\n\nDeliver to:\n{saved['ship_to']}\n\n"
            f"Items:\n{lines}\n",
            key=f"{no}/shipping request",
        ),
    )
