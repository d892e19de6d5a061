"""The whole-form code generation on recorded events, without a browser: untouched defaults,
columns found by name, label, option or file name, the key column, the point of no return
of a plain posted form, and the record number its confirmation page shows."""

from __future__ import annotations

import pytest

from deskhand import ConfigError
from recorders import forms
from recorders.codegen import generate
from recorders.recording import actions


def target(kind: str, hint: str, *candidates: str, **extra) -> dict:
    return {"kind": kind, "hint": hint, "candidates": list(candidates), **extra}


def event(t: int, what: str, page: str = "p1", title: str = "New order", **data) -> dict:
    return {"type": what, "t": t, "page_id": page, "page": {"title": title}, **data}


CUSTOMER = target("textbox", "Customer:", "label=Customer:", name="customer", label="Customer:")
CURRENCY = target("select", "Currency", "label=Currency", name="ccy", label="Currency")
EXPRESS = target("checkbox", "Express delivery", "label=Express delivery", name="express",
                 label="Express delivery")  # fmt: skip
DATE = target("textbox", "Order date:", "label=Order date:", name="date", label="Order date:")
SAVE = target("button", "Save order", 'role=button[name="Save order"]')
FORM = {
    "method": "post",
    "action": "/orders",
    "fields": [
        {"kind": "textbox", "target": CUSTOMER, "value": "Acme", "changed": True},
        {"kind": "select", "target": CURRENCY, "value": "EUR", "label": "EUR",
         "options": [{"value": v, "label": v} for v in ("EUR", "USD")], "changed": False},
        {"kind": "checkbox", "target": EXPRESS, "checked": True, "changed": False},
        {"kind": "textbox", "target": DATE, "value": "2026-12-01", "changed": False},
    ],
}  # fmt: skip
CONFIRMATION = [
    {"text": "ORD-00042", "hint": "Order number:", "target": target("other", "", "p > b")},
    {"text": "Acme", "hint": "Customer", "target": target("other", "", "td.c")},
]


def recorded(form: dict = FORM) -> list:
    return actions(
        [
            {"type": "goto", "t": 0, "page_id": "p1", "url": "http://app/orders/new"},
            event(10, "fill", target=CUSTOMER, value="Acme"),
            event(20, "click", target=SAVE),
            event(21, "submit", form=form),
            {"type": "navigation", "t": 30, "page_id": "p1", "frame": "", "url": "http://app/o/42"},
            event(40, "shown", title="Order saved", cells=CONFIRMATION),
        ]
    )


def test_untouched_defaults_become_columns_or_named_constants():
    columns = ["Order ref", "Client", "Currency"]
    rows = [
        {"Order ref": "R-1", "Client": "Acme", "Currency": "EUR"},
        {"Order ref": "R-2", "Client": "Bolt", "Currency": "USD"},
    ]
    out = generate(recorded(), "orders", "http://app/orders/new", columns, rows)
    bot = out.bot
    assert 'app["customer"].fill(item["Client"])' in bot  # matched by the value typed
    assert 'app["currency"].select(label=item["Currency"])' in bot  # left alone, by name
    assert "# express_delivery: left at its default when recorded" in bot
    assert "EXPRESS_DELIVERY = True" in bot
    assert 'app["express_delivery"].check(EXPRESS_DELIVERY)' in bot
    assert dict(out.followed) == {"customer": "Client", "currency": "Currency"}
    assert "order_date" not in bot  # the page's own default text: not frozen into the bot
    assert out.constants == [("express_delivery", "checked")]
    assert out.key == "Order ref"  # unique values, named like a reference
    assert 'yield ctx.item(reference=row["Order ref"], **row)' in bot
    # A posted form whose next page shows a new number: the point of no return.
    assert 'with ctx.step("save order", point_of_no_return=True) as step:' in bot
    assert 'record = app["order_number"].text()' in bot
    assert 'currency=(app["currency"].selected_label(), item["Currency"]),' in bot
    assert 'express_delivery=(app["express_delivery"].is_checked(), EXPRESS_DELIVERY),' in bot
    assert "RECORD_NUMBER" not in bot  # no search recorded: a crashed item goes to review
    assert "raise BusinessError(" in bot.split("@bot.reconcile")[1]


def test_without_data_every_default_is_a_constant_and_rows_are_known_by_content():
    out = generate(recorded(), "orders", "http://app/orders/new")
    assert 'CURRENCY = "EUR"' in out.bot and "select(label=CURRENCY)" in out.bot
    assert '" | ".join(row[c] for c in COLUMNS)' in out.bot  # never a row number
    with pytest.raises(ConfigError, match="--key Order: no such column"):
        generate(recorded(), "orders", "http://app/", ["Client"], [{"Client": "A"}], key="Order")


def test_key_column_and_record_number_rules():
    rows = [{"name": "A", "id": "1", "flag": "yes"}, {"name": "B", "id": "2", "flag": "no"}]
    assert forms.key_column(["name", "id", "flag"], rows, ["A"]) == "id"
    assert forms.key_column(["name", "flag"], rows, ["A"]) == "name"
    assert forms.key_column(["flag"], rows, []) is None  # yes/no values tell nothing apart
    cells = [{"text": "Acme", "hint": "Customer"}, {"text": "12.50", "hint": "Total"},
             {"text": "INV-7731", "hint": "Saved as"}]  # fmt: skip
    assert forms.record_number(cells, ["Acme"])["text"] == "INV-7731"
    assert forms.record_number(cells[:2], ["Acme"]) is None
    assert forms.number_pattern("CLM-000001") == r"CLM\-\d+"


def test_a_wrong_key_column_is_refused_before_recording(tmp_path):
    from recorders.web import Recorder

    data = tmp_path / "rows.csv"
    data.write_text("Policy,Amount\nP-1,10\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="--key Polcy: no such column in --data"):
        Recorder("http://app/", "claims", data=data, root=tmp_path, key="Polcy")
    assert Recorder("http://app/", "claims", data=data, root=tmp_path, key="Policy").key


def test_a_field_the_page_rewrote_is_keyed_but_not_read_back():
    fields = [dict(FORM["fields"][0], value="ACME"), *FORM["fields"][1:]]  # upper-cased
    out = generate(recorded({**FORM, "fields": fields}), "orders", "http://app/", ["Client"],
                   [{"Client": "Acme"}])  # fmt: skip
    assert 'app["customer"].fill(item["Client"])' in out.bot
    assert 'customer=(app["customer"].value()' not in out.bot  # would differ every time
    assert 'customer=(app["customer"].value()' in generate(recorded(), "o", "http://a/").bot
