"""The legacy app's fault mode (--faults) and shifted variant (--variant shifted), through
Flask's test client: what a bot keying into a failing or re-skinned target would meet."""

import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from test_legacy_app import valid_invoice

from demo.data import DEMO_PASSWORD, DEMO_USER
from demo.legacy_app import create_app
from demo.legacy_app.faults import KINDS, FaultSpec, parse_faults
from demo.legacy_app.variants import CLASSES, IDS, UnknownName, names

ROOT = Path(__file__).resolve().parents[1]
WORK_PAGES = ("/main", "/invoices/search", "/invoices/new")  # the pages that get the notice
OTHER_PAGES = ("/nav", "/welcome", "/vendors/lookup")


@pytest.fixture
def db_path(tmp_path):
    return str(tmp_path / "legacy.db")


@pytest.fixture
def sleeps():
    """Stands in for time.sleep: records what the app would have waited."""
    return []


def make_client(db_path, faults=None, variant="normal", sleep=None, logged_in=True):
    app = create_app(db_path, faults, variant, sleep=sleep if sleep is not None else _no_sleep)
    client = app.test_client()
    if logged_in:
        response = client.post("/login", data={"username": DEMO_USER, "password": DEMO_PASSWORD})
        assert response.status_code == 302, response.text
    return client


def _no_sleep(seconds):
    raise AssertionError(f"slept {seconds} s without a latency or slow fault")


def logged_in_by_cookie(client):
    """Log in without a request (which an error fault could fail): write the session."""
    with client.session_transaction() as session:
        session["user"] = DEMO_USER
    return client


def invoices(db_path):
    conn = sqlite3.connect(db_path)
    try:
        return [r[0] for r in conn.execute("SELECT invoice_number FROM invoices ORDER BY id")]
    finally:
        conn.close()


def fault_counts(client):
    response = client.get("/_faults")
    assert response.status_code == 200
    return response.json


# -- the SPEC ------------------------------------------------------------------------------
def test_spec_parses_every_key():
    spec = parse_faults("error=0.1, lost=0.1,latency=0.2:1.5,expire=7,modal=0.2,slow=0.5,seed=42,")
    assert spec == FaultSpec(
        error=0.1, lost=0.1, latency=(0.2, 1.5), expire=7, modal=0.2, slow=0.5, seed=42
    )
    assert parse_faults(None) == parse_faults("") == FaultSpec()


@pytest.mark.parametrize(
    ("spec", "named"),
    [
        ("eror=0.1", "unknown key 'eror'"),
        ("error", "'error' needs a value"),
        ("error=", "'error' needs a value"),
        ("error=1.5", "bad value for 'error'"),
        ("lost=-0.1", "bad value for 'lost'"),
        ("modal=often", "bad value for 'modal'"),
        ("latency=0.5", "bad value for 'latency'"),
        ("latency=0.5:-1", "bad value for 'latency'"),
        ("expire=0", "bad value for 'expire'"),
        ("expire=2.5", "bad value for 'expire'"),
        ("slow=nan", "bad value for 'slow'"),
        ("seed=x", "bad value for 'seed'"),
        ("error=0.1,error=0.2", "'error' given twice"),
        ("=0.1", "has no key"),
    ],
)
def test_a_bad_spec_is_one_line_naming_the_key(spec, named, db_path):
    with pytest.raises(ValueError, match=re.escape(named)) as error:
        parse_faults(spec)
    assert "\n" not in str(error.value)
    with pytest.raises(ValueError, match=re.escape(named)):
        create_app(db_path, spec)


def test_command_line_rejects_a_bad_spec_or_variant_with_exit_2(tmp_path):
    for option in (["--faults", "error=0.1,boom=1"], ["--variant", "wide"]):
        result = subprocess.run(
            [sys.executable, "-m", "demo.legacy_app", "--db", str(tmp_path / "x.db"), *option],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert result.returncode == 2, result
        assert result.stdout == ""
        last = result.stderr.strip().splitlines()[-1]
        assert ("'boom'" in last) if option[0] == "--faults" else ("'wide'" in last)
    assert not (tmp_path / "x.db").exists()  # refused before touching anything


# -- error ---------------------------------------------------------------------------------
def test_error_answers_500_before_anything_is_saved(db_path, capsys):
    client = logged_in_by_cookie(make_client(db_path, "error=1.0,seed=1", logged_in=False))
    response = client.post("/invoices/new", data=valid_invoice())
    assert response.status_code == 500
    assert '<h1 id="server-error">Internal Server Error — please try again later</h1>' in (
        response.text
    )
    assert invoices(db_path) == []
    for url in ("/main", "/invoices/search", "/invoices/AP-000001", "/logout"):
        assert client.get(url).status_code == 500, url
    assert client.post("/login", data={"username": DEMO_USER}).status_code == 500
    # The log-in page itself never fails, so that a bot can always start again.
    for _ in range(20):
        assert client.get("/login").status_code == 200
    assert fault_counts(client) == {**dict.fromkeys(KINDS, 0), "error": 6}
    log = capsys.readouterr().out.splitlines()
    assert log.count("fault error POST /invoices/new") == 1
    assert len([line for line in log if line.startswith("fault error ")]) == 6


def test_a_seed_makes_the_failures_repeatable(db_path):
    def statuses(seed):
        client = make_client(db_path, f"error=0.5,seed={seed}", logged_in=False)
        logged_in_by_cookie(client)
        return [client.get("/welcome").status_code for _ in range(40)]

    first = statuses(7)
    assert first == statuses(7)
    assert first != statuses(8)
    assert 5 < first.count(500) < 35 and set(first) == {200, 500}


def test_which_saves_are_lost_does_not_depend_on_the_pages_read_between_them(db_path, tmp_path):
    """Each kind of fault has its own seeded dice: a run that happened to request more pages
    (a retry, a slower machine) still loses the same saves, so a test can count on them."""

    def lost_saves(db, pages_between):
        client = make_client(db, "lost=0.5,modal=0.5,latency=0.5:0,seed=4", sleep=lambda s: None)
        lost = []
        for n in range(12):
            for _ in range(pages_between):
                client.get("/invoices/search")
            answer = client.post("/invoices/new", data=valid_invoice(invoice_number=f"L-{n}"))
            lost.append(answer.status_code == 500)
        return lost

    quiet = lost_saves(db_path, 0)
    busy = lost_saves(str(tmp_path / "busy.db"), 3)
    assert quiet == busy and True in quiet and False in quiet


# -- lost ----------------------------------------------------------------------------------
def test_lost_save_commits_the_record_but_answers_500(db_path):
    client = make_client(db_path, "lost=1.0,seed=3")
    response = client.post("/invoices/new", data=valid_invoice())
    assert response.status_code == 500
    assert 'id="server-error"' in response.text
    assert invoices(db_path) == ["BP-2024-0042"]  # the answer was lost, the record was not

    # What a bot's reconciliation sees: the record is there; keying again is refused.
    search = client.get("/invoices/search", query_string={"q": "BP-2024-0042"}).text
    assert '<td class="record-no"><a href="/invoices/AP-000001">AP-000001</a></td>' in search
    again = client.post("/invoices/new", data=valid_invoice())
    assert again.status_code == 200 and "already exists for this vendor" in again.text
    # A rejected form saves nothing, so it loses nothing either.
    assert client.post("/invoices/new", data=valid_invoice(amount="1")).status_code == 200
    assert invoices(db_path) == ["BP-2024-0042"]
    assert fault_counts(client)["lost"] == 1


def test_without_faults_nothing_is_injected(db_path):
    client = make_client(db_path)
    assert client.post("/invoices/new", data=valid_invoice()).status_code == 303
    for url in (*WORK_PAGES, *OTHER_PAGES):
        response = client.get(url)
        assert response.status_code == 200 and "maintenance" not in response.text
    assert fault_counts(client) == dict.fromkeys(KINDS, 0)


# -- expire --------------------------------------------------------------------------------
def test_session_expires_after_n_authenticated_requests(db_path, capsys):
    client = make_client(db_path, "expire=3")
    stale = client.get_cookie("APSESSIONID").value
    for url in ("/main", "/nav", "/welcome"):
        assert client.get(url).status_code == 200, url
    response = client.post("/invoices/new", data=valid_invoice())  # the 4th: too late
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    assert invoices(db_path) == []

    login = client.get("/login").text
    assert '<p class="hint" id="session-expired">Your session has expired.' in login
    assert "if (window.top !== window.self) { window.top.location = '/login'; }" in login
    assert client.get("/main").status_code == 302
    # The counter lives on the server: replaying the old cookie does not revive the session.
    client.set_cookie("APSESSIONID", stale)
    assert client.get("/main").status_code == 302

    client.post("/login", data={"username": DEMO_USER, "password": DEMO_PASSWORD})
    assert "session-expired" not in client.get("/login").text
    assert client.post("/invoices/new", data=valid_invoice()).status_code == 303
    assert invoices(db_path) == ["BP-2024-0042"]
    assert fault_counts(client)["expire"] == 2  # the 4th request and the replayed cookie
    assert "fault expire POST /invoices/new" in capsys.readouterr().out.splitlines()


def test_log_in_page_and_unknown_paths_do_not_count(db_path):
    client = make_client(db_path, "expire=1")
    for _ in range(5):
        assert client.get("/login").status_code == 200
        assert client.get("/_faults").status_code == 200
        assert client.get("/favicon.ico").status_code == 404  # what every browser asks for
    assert client.get("/welcome").status_code == 200
    assert client.get("/welcome").status_code == 302


# -- modal ---------------------------------------------------------------------------------
def test_maintenance_notice_overlays_the_work_pages(db_path):
    client = make_client(db_path, "modal=1.0,seed=5")
    for url in WORK_PAGES:
        html = client.get(url).text
        assert html.count('<div id="maintenance-notice" class="modal" role="dialog"') == 1, url
        notice = html.split('id="maintenance-notice"')[1]
        assert "position: fixed; top: 0; left: 0; right: 0; bottom: 0; z-index: 10000" in notice
        assert "Scheduled maintenance tonight 22:00–23:00. Save your work." in notice
        assert '<input type="button" id="maintenance-close" value="Close"' in notice
        assert "removeChild" in notice.split('id="maintenance-close"')[1].split(">")[0]
    # A form sent back with errors is a work page too.
    rejected = client.post("/invoices/new", data=valid_invoice(amount="1")).text
    assert 'id="maintenance-notice"' in rejected
    for url in (*OTHER_PAGES, "/login"):
        assert "maintenance" not in client.get(url).text, url
    assert fault_counts(client)["modal"] == 4


# -- latency and slow pages ----------------------------------------------------------------
def test_latency_delays_requests_before_they_are_handled(db_path, sleeps):
    client = make_client(db_path, "latency=1.0:2.5", sleep=sleeps.append)
    assert sleeps == [2.5]  # the log-in POST
    for url in ("/login", "/main", "/invoices/new", "/invoices/AP-999999"):
        client.get(url)
    assert client.post("/invoices/new", data=valid_invoice()).status_code == 303
    assert sleeps == [2.5] * 6
    fault_counts(client)  # never delayed
    assert sleeps == [2.5] * 6
    assert fault_counts(client)["latency"] == 6


def test_latency_share_hits_some_requests(db_path, sleeps):
    client = make_client(db_path, "latency=0.25:1,seed=11", sleep=sleeps.append)
    for _ in range(99):
        client.get("/welcome")
    assert 10 < len(sleeps) < 40 and set(sleeps) == {1.0}
    assert fault_counts(client)["latency"] == len(sleeps)


def test_slow_delays_every_html_page_but_not_redirects(db_path, sleeps):
    client = make_client(db_path, "slow=0.75", sleep=sleeps.append)
    assert sleeps == []  # the log-in answers with a redirect
    for url in ("/login", "/main", "/nav", "/invoices/new", "/invoices/AP-999999"):
        assert client.get(url).mimetype == "text/html"
    assert client.post("/invoices/new", data=valid_invoice()).status_code == 303
    assert client.get("/").status_code == 302
    fault_counts(client)
    assert sleeps == [0.75] * 5
    assert fault_counts(client)["slow"] == 5


# -- /_faults ------------------------------------------------------------------------------
def test_fault_counts_are_public_and_never_faulted(db_path):
    client = make_client(
        db_path, "error=1.0,latency=1.0:9,modal=1.0,slow=9,expire=1", logged_in=False
    )
    for _ in range(3):
        response = client.get("/_faults")  # no log-in, no 500, no sleep (_no_sleep would raise)
        assert response.status_code == 200 and response.mimetype == "application/json"
        assert client.get("/favicon.ico").status_code == 302  # unrouted: log-in first, no fault
    assert response.json == dict.fromkeys(KINDS, 0)


# -- the shifted variant -------------------------------------------------------------------
NORMAL_IDS = {normal for normal, _ in IDS.values()}
NORMAL_CLASSES = {normal for normal, _ in CLASSES.values()}


def all_pages(client):
    """Every page a bot can reach, with a saved invoice, errors and an empty search."""
    pages = {url: client.get(url).text for url in (*WORK_PAGES, *OTHER_PAGES)}
    pages["rejected"] = client.post("/invoices/new", data=valid_invoice(amount="1")).text
    assert client.post("/invoices/new", data=valid_invoice()).status_code == 303
    for url in (
        "/invoices/search",
        "/invoices/search?q=nothing",
        "/vendors/lookup?q=nothing",
        "/invoices/AP-000001/saved",
        "/invoices/AP-000001",
        "/invoices/AP-999999",
    ):
        pages[url] = client.get(url).text
    client.get("/logout")
    pages["login"] = client.post("/login", data={"username": DEMO_USER}).text
    return pages


def ids_and_classes(html):
    ids = set(re.findall(r'(?<![\w-])id="([^"]*)"', html))
    ids |= set(re.findall(r"getElementById\('([^']*)'\)", html))  # the page scripts
    classes = {c for attr in re.findall(r'\bclass="([^"]*)"', html) for c in attr.split()}
    return ids, classes


def test_shifted_variant_renames_every_id_and_class(db_path):
    pages = all_pages(make_client(db_path, variant="shifted"))
    found_ids, found_classes = set(), set()
    for html in pages.values():
        ids, classes = ids_and_classes(html)
        found_ids |= ids
        found_classes |= classes
    shifted_ids = {shifted for _, shifted in IDS.values()}
    # Prefixed ids (terms_NET30, line_description_1, line-1) checked by their stems too.
    stems = {re.sub(r"(NET\d+|DUE_ON_RECEIPT|\d+)$", "", i) for i in found_ids}
    assert not (found_ids | stems) & NORMAL_IDS
    assert not found_classes & NORMAL_CLASSES
    assert {"inv-no-field", "btnSaveInvoice", "btnVendorSearch", "conf-record"} <= found_ids
    assert stems <= shifted_ids
    assert found_classes <= {shifted for _, shifted in CLASSES.values()}
    assert {"srch-row", "col-rec", "item-row", "lnk-pick-vendor"} <= found_classes


def test_shifted_form_keeps_names_labels_values_and_frame_names(db_path):
    client = make_client(db_path, variant="shifted")
    form = client.get("/invoices/new").text
    for name, element_id in (
        ("invoice_number", "inv-no-field"),
        ("invoice_date", "inv-date-field"),
        ("vendor_id", "ddlVendor"),
        ("notes", "txtRemarks"),
        ("line_description_1", "lineDesc-1"),
        ("line_count", "hdnLineCount"),
    ):
        assert f'name="{name}" id="{element_id}"' in form
    assert '<label for="inv-no-field">Invoice number:</label>' in form
    assert 'id="rdoTerms-NET30" value="NET30"' in form
    assert '<label for="rdoTerms-NET30">' in form
    assert '<input type="submit" id="btnSaveInvoice" value="Save">' in form
    assert '<input type="button" id="btnVendorSearch" value="Lookup..."' in form
    # The page script follows the mapping: confirm, vendor name, added rows.
    assert "getElementById('inv-no-field').value" in form
    assert "row.id = 'lineRow' + n;" in form and "['description', 40, 'lineDesc-']" in form
    assert "input.name = 'line_' + fields[i][0] + '_' + n;" in form
    lookup = client.get("/vendors/lookup").text
    assert "getElementById('ddlVendor')" in lookup and 'class="lnk-pick-vendor" data-id=' in lookup
    main = client.get("/main").text
    assert '<iframe name="nav" id="ifrMenu"' in main
    assert '<iframe name="content" id="ifrWorkArea"' in main
    assert 'href="/invoices/new" target="content">New invoice</a>' in client.get("/nav").text
    client.get("/logout")
    login = client.get("/login").text
    assert 'name="username" id="txtUserName"' in login
    assert '<input type="submit" id="btnLogin" value="Log in">' in login


def test_shifted_variant_saves_and_shows_the_same_record(db_path):
    client = make_client(db_path, variant="shifted")
    response = client.post("/invoices/new", data=valid_invoice())
    assert response.status_code == 303
    assert invoices(db_path) == ["BP-2024-0042"]
    saved = client.get(response.headers["Location"]).text
    assert '<span id="conf-record">AP-000001</span>' in saved
    search = client.get("/invoices/search", query_string={"q": "BP-2024"}).text
    assert '<table id="tblSearchResults" class="data-table"' in search
    assert '<td class="col-rec"><a href="/invoices/AP-000001">AP-000001</a></td>' in search
    assert '<td class="col-inv-no">BP-2024-0042</td>' in search
    view = client.get("/invoices/AP-000001").text
    assert '<td id="rec-inv-no">BP-2024-0042</td>' in view
    assert view.split('id="rec-line-items"')[1].count('<tr class="item-row">') == 2
    assert '<td class="col-qty" align="right">2.5</td>' in view
    duplicate = client.post("/invoices/new", data=valid_invoice()).text
    assert '<div class="err-box" id="msgErrors">' in duplicate


def test_faults_and_variant_combine(db_path):
    client = make_client(db_path, "modal=1.0", variant="shifted")
    html = client.get("/invoices/new").text
    assert '<div id="dlgMaintenance" class="dlg-overlay" role="dialog"' in html
    assert 'id="btnDlgDismiss" value="Close"' in html and "getElementById('dlgMaintenance')" in html


def test_mapping_is_complete_unique_and_strict(db_path):
    for table in (IDS, CLASSES):
        normal = [pair[0] for pair in table.values()]
        shifted = [pair[1] for pair in table.values()]
        assert len(set(normal)) == len(normal) and len(set(shifted)) == len(shifted)
        assert all(a != b for a, b in table.values())
    id_names, class_names = names("shifted")
    assert id_names.invoice_number == id_names["invoice_number"] == "inv-no-field"
    assert class_names.record_no == "col-rec"
    with pytest.raises(UnknownName, match="no id \\(shifted\\) named 'invoice_numbr'"):
        _ = id_names.invoice_numbr
    with pytest.raises(ValueError, match="unknown variant 'wide'"):
        create_app(db_path, variant="wide")
    # Every key is used by some template, so the table documents the markup exactly.
    templates = ROOT / "demo" / "legacy_app" / "templates"
    source = "".join(p.read_text() for p in templates.glob("*.html"))
    used_ids = set(re.findall(r"ID\.(\w+)", source))
    used_classes = set(re.findall(r"CLS\.(\w+)", source))
    assert used_ids == set(IDS) and used_classes == set(CLASSES)
