"""The bundled legacy AP app, through Flask's test client: what a clerk (or a bot) sees and keys."""

import re
import sqlite3

import pytest

from demo.data import DEMO_PASSWORD, DEMO_USER, VENDORS
from demo.legacy_app import create_app


@pytest.fixture
def db_path(tmp_path):
    return str(tmp_path / "legacy.db")


@pytest.fixture
def client(db_path):
    app = create_app(db_path)
    client = app.test_client()
    response = client.post("/login", data={"username": DEMO_USER, "password": DEMO_PASSWORD})
    assert response.status_code == 302
    return client


def rows(db_path, sql, *args):
    conn = sqlite3.connect(db_path)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql, args)]
    finally:
        conn.close()


def valid_invoice(**overrides):
    data = {
        "vendor_id": "3",
        "invoice_number": "BP-2024-0042",
        "invoice_date": "03/05/2024",
        "due_date": "04/04/2024",
        "currency": "USD",
        "amount": "1,254.50",
        "tax": "20",
        "po_number": "PO-7781",
        "terms": "NET30",
        "recurring": "1",
        "notes": "Annual renewal\r\nsee contract",
        "line_count": "2",
        "line_description_1": "Licence seats",
        "line_quantity_1": "2.50",
        "line_unit_price_1": "100",
        "line_amount_1": "250.00",
        "line_description_2": "Support plan",
        "line_quantity_2": "1",
        "line_unit_price_2": "984.5",
        "line_amount_2": "984.50",
    }
    data.update(overrides)
    return data


def text_of(html, element_id):
    match = re.search(rf'id="{re.escape(element_id)}"[^>]*>(.*?)</', html, re.S)
    assert match, f"no element #{element_id}"
    return match.group(1)


def test_pages_require_login(db_path):
    client = create_app(db_path).test_client()
    for url in ("/", "/main", "/invoices/new", "/invoices/search", "/vendors/lookup"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"].endswith("/login")
    assert client.post("/invoices/new", data=valid_invoice()).status_code == 302
    assert rows(db_path, "SELECT * FROM invoices") == []


def test_bad_login_shows_message_and_good_login_opens_main(db_path):
    client = create_app(db_path).test_client()
    response = client.post("/login", data={"username": DEMO_USER, "password": "wrong"})
    assert response.status_code == 200
    assert '<div class="errors" id="errors">Invalid user name or password.</div>' in response.text
    assert client.get("/main").status_code == 302

    response = client.post(
        "/login", data={"username": DEMO_USER, "password": DEMO_PASSWORD}, follow_redirects=True
    )
    assert "Logged in as clerk" in response.text
    assert 'id="nav" src="/nav"' in response.text and 'id="content" src="/welcome"' in response.text
    client.get("/logout")
    assert client.get("/main").status_code == 302


def test_session_survives_restart_on_the_same_db(client, db_path):
    create_app(db_path)  # a second start must neither reseed nor rotate the secret key
    assert client.get("/main").status_code == 200
    assert len(rows(db_path, "SELECT * FROM vendors")) == len(VENDORS)
    assert len(rows(db_path, "SELECT * FROM users")) == 1


def test_new_invoice_form_has_the_contract_fields(client):
    html = client.get("/invoices/new").text
    assert 'onsubmit="return confirmSave()"' in html
    assert "confirm('Save invoice ' + number + '?')" in html
    assert '<option value="">-- select vendor --</option>' in html
    assert f'<option value="3">{VENDORS[2].name}</option>' in html
    for element_id in (
        "invoice_number", "invoice_date", "due_date", "currency", "amount", "tax", "po_number",
        "terms_NET15", "terms_NET30", "terms_NET60", "terms_DUE_ON_RECEIPT", "recurring",
        "notes", "lines", "line-1", "line_description_1", "line_quantity_1",
        "line_unit_price_1", "line_amount_1", "add-line", "line_count", "save-button",
        "vendor-lookup", "vendor-name-display",
    ):  # fmt: skip
        assert f'id="{element_id}"' in html, element_id
    assert 'id="line-2"' not in html


def test_valid_invoice_is_saved_once_with_canonical_values(client, db_path):
    response = client.post("/invoices/new", data=valid_invoice())
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/invoices/AP-000001/saved")

    [invoice] = rows(db_path, "SELECT * FROM invoices")
    assert {k: invoice[k] for k in invoice if k not in ("id", "created_at")} == {
        "record_no": "AP-000001",
        "vendor_id": 3,
        "invoice_number": "BP-2024-0042",
        "invoice_date": "2024-03-05",
        "due_date": "2024-04-04",
        "currency": "USD",
        "amount": "1254.50",
        "tax": "20.00",
        "po_number": "PO-7781",
        "terms": "NET30",
        "recurring": 1,
        "notes": "Annual renewal\nsee contract",
        "created_by": "clerk",
    }
    lines = rows(
        db_path,
        "SELECT line_no, description, quantity, unit_price, amount FROM invoice_lines"
        " WHERE invoice_id = ? ORDER BY line_no",
        invoice["id"],
    )
    assert lines == [
        {"line_no": 1, "description": "Licence seats", "quantity": "2.5",
         "unit_price": "100.00", "amount": "250.00"},
        {"line_no": 2, "description": "Support plan", "quantity": "1",
         "unit_price": "984.50", "amount": "984.50"},
    ]  # fmt: skip

    saved = client.get("/invoices/AP-000001/saved").text
    assert "Invoice saved." in saved
    assert '<span id="record-number">AP-000001</span>' in saved
    assert '<a id="view-record" href="/invoices/AP-000001">View record</a>' in saved


def test_optional_fields_default_and_blank_line_rows_are_ignored(client, db_path):
    data = valid_invoice(
        tax="", po_number="", due_date="", notes="", amount="250.00", line_count="3",
        line_description_2="", line_quantity_2="", line_unit_price_2="", line_amount_2="",
        line_description_3="Seats", line_quantity_3="0.25", line_unit_price_3="0",
        line_amount_3="0.00",
    )  # fmt: skip
    del data["recurring"]
    assert client.post("/invoices/new", data=data).status_code == 303
    [invoice] = rows(db_path, "SELECT * FROM invoices")
    assert (invoice["tax"], invoice["po_number"], invoice["due_date"], invoice["recurring"]) == (
        "0.00", "", "", 0,
    )  # fmt: skip
    lines = rows(db_path, "SELECT line_no, quantity FROM invoice_lines ORDER BY line_no")
    assert lines == [{"line_no": 1, "quantity": "2.5"}, {"line_no": 2, "quantity": "0.25"}]


def test_validation_errors_rerender_with_messages_and_values(client, db_path):
    data = valid_invoice(
        vendor_id="",
        invoice_date="2024-03-05",
        amount="12x",
        line_count="3",
        line_quantity_2="one",
        line_description_3="Extra <row>",
        line_quantity_3="3",
        line_unit_price_3="10",
        line_amount_3="30.00",
    )
    response = client.post("/invoices/new", data=data)
    assert response.status_code == 200
    html = response.text
    errors = re.findall(r"<li>(.*?)</li>", html.split('id="errors"')[1].split("</div>")[0])
    assert "Vendor is required." in errors
    assert "Invoice date must be MM/DD/YYYY." in errors
    assert "Amount must be a number." in errors
    assert "Line 2: quantity must be a number." in errors
    # Every submitted value comes back, including the rows added by script.
    assert 'id="invoice_date" size="12" maxlength="10" value="2024-03-05"' in html
    assert 'id="amount" size="14" value="12x"' in html
    assert 'id="line_quantity_2" size="6" value="one"' in html
    assert 'id="line_description_3" size="40" value="Extra &lt;row&gt;"' in html
    assert 'id="line_count" value="3"' in html
    assert 'id="terms_NET30" value="NET30" checked' in html
    assert 'id="recurring" value="1" checked' in html
    assert '<option value="USD" selected>USD</option>' in html
    assert ">Annual renewal\r\nsee contract</textarea>" in html
    assert rows(db_path, "SELECT * FROM invoices") == []


def test_totals_dates_and_line_amounts_are_cross_checked(client, db_path):
    data = valid_invoice(
        due_date="03/01/2024", amount="1264.50", line_amount_1="25.00", vendor_id="2"
    )
    html = client.post("/invoices/new", data=data).text
    assert "<li>Due date is before the invoice date.</li>" in html
    assert "<li>Line 1: amount (25.00) is not quantity x unit price (250.00).</li>" in html
    assert re.search(r'id="vendor-name-display"[^>]*>' + re.escape(VENDORS[1].name), html)

    html = client.post("/invoices/new", data=valid_invoice(amount="1264.50")).text
    assert (
        "<li>Line items (1234.50) plus tax (20.00) do not match the amount (1264.50).</li>" in html
    )
    assert rows(db_path, "SELECT * FROM invoices") == []


def test_duplicate_invoice_number_for_the_same_vendor_is_rejected(client, db_path):
    assert client.post("/invoices/new", data=valid_invoice()).status_code == 303
    response = client.post("/invoices/new", data=valid_invoice())
    assert response.status_code == 200
    assert (
        "<li>Invoice BP-2024-0042 already exists for this vendor (record AP-000001).</li>"
        in response.text
    )
    # The same number from another vendor is a different invoice.
    assert client.post("/invoices/new", data=valid_invoice(vendor_id="4")).status_code == 303
    assert len(rows(db_path, "SELECT * FROM invoices")) == 2


def test_search_finds_by_invoice_number_and_vendor(client):
    client.post("/invoices/new", data=valid_invoice())
    client.post("/invoices/new", data=valid_invoice(vendor_id="1", invoice_number="ACME-7"))

    html = client.get("/invoices/search", query_string={"q": "bp-2024"}).text
    assert html.count('<tr class="result') == 1
    assert '<td class="record-no"><a href="/invoices/AP-000001">AP-000001</a></td>' in html
    assert '<td class="vendor">Bluepeak Software Inc.</td>' in html
    assert '<td class="invoice-number">BP-2024-0042</td>' in html
    assert '<td class="invoice-date">03/05/2024</td>' in html
    assert '<td class="currency">USD</td>' in html

    html = client.get("/invoices/search", query_string={"q": "office supplies"}).text
    assert html.count('<tr class="result') == 1 and ">ACME-7<" in html

    html = client.get("/invoices/search").text
    assert re.findall(r'href="/invoices/(AP-\d+)"', html) == ["AP-000002", "AP-000001"]

    html = client.get("/invoices/search", query_string={"q": "nothing-like-this"}).text
    assert '<p id="no-results">No invoices found.</p>' in html
    assert 'class="result' not in html


def test_view_page_shows_the_stored_values(client):
    client.post("/invoices/new", data=valid_invoice())
    html = client.get("/invoices/AP-000001").text
    expected = {
        "view-vendor": "Bluepeak Software Inc.",
        "view-invoice_number": "BP-2024-0042",
        "view-invoice_date": "03/05/2024",
        "view-due_date": "04/04/2024",
        "view-currency": "USD",
        "view-amount": "1254.50",
        "view-tax": "20.00",
        "view-po_number": "PO-7781",
        "view-terms": "NET30",
        "view-recurring": "Yes",
        "view-notes": "Annual renewal\nsee contract",
    }
    assert {key: text_of(html, key) for key in expected} == expected
    table = html.split('id="view-lines"')[1]
    assert table.count('<tr class="line">') == 2
    assert '<td class="quantity" align="right">2.5</td>' in table
    assert client.get("/invoices/AP-999999").status_code == 404


def test_html_in_user_text_is_escaped(client):
    client.post(
        "/invoices/new",
        data=valid_invoice(notes="<script>alert(1)</script>", line_description_1="<b>seats</b>"),
    )
    html = client.get("/invoices/AP-000001").text
    assert "<script>alert(1)</script>" not in html
    assert text_of(html, "view-notes") == "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert '<td class="description">&lt;b&gt;seats&lt;/b&gt;</td>' in html


def test_vendor_lookup_filters_and_offers_selection(client):
    html = client.get("/vendors/lookup", query_string={"q": "blue"}).text
    assert html.count('<tr class="vendor-row') == 2
    assert 'class="select-vendor" data-id="3" data-name="Bluepeak Software Inc."' in html
    assert "window.opener" in html and "window.close()" in html
    assert client.get("/vendors/lookup").text.count('<tr class="vendor-row') == len(VENDORS)
