"""The selector repository: loading, deskhand's `label=` selectors, healing proposals, and
`selectors check` on the live legacy app (its normal and its re-skinned variant)."""

from __future__ import annotations

import shutil
from argparse import Namespace

import pytest
from conftest import ROOT

from demo.server import demo_app
from deskhand import ConfigError
from deskhand.commands.selectors import run_check
from deskhand.selectors import (
    SelectorRepository,
    check_page,
    frame_css,
    playwright_selector,
    proposed_ranking,
    write_proposal,
)

REPOSITORY = """\
login:
  username: ["#username", "input[name=username]", "label=User name:"]
  login_button:
    note: a comment for people, ignored when resolving
    candidates: ["#login-button", 'role=button[name="Log in"]']
navigation:
  nav_search: {frame: nav, candidates: ["#nav-search", "text=Search invoices"]}
invoice_lines:
  line_amount: {frame: content, candidates: ["#line_amount_{n}"]}
"""


@pytest.fixture
def repo_path(tmp_path):
    path = tmp_path / "selectors" / "ap.yaml"
    path.parent.mkdir()
    path.write_text(REPOSITORY)
    return path


def test_repository_loads_pages_frames_and_notes(repo_path):
    repo = SelectorRepository.load(repo_path)

    assert repo.name == "ap" and repo.path == repo_path
    assert list(repo.pages) == ["login", "navigation", "invoice_lines"]
    assert repo["login_button"].candidates == ("#login-button", 'role=button[name="Log in"]')
    assert repo["nav_search"].frames == ("nav",)
    assert repo.proposal_path == repo_path.parent / "ap.proposed.yaml"
    with pytest.raises(ConfigError, match="no element 'nope' in selectors/ap.yaml"):
        repo["nope"]
    repo_path.write_text("login:\n  username: {candidates: ['#u'], frames: content}\n")
    with pytest.raises(ConfigError, match=r"unknown keys \['frames'\]"):
        SelectorRepository.load(repo_path)


def test_label_selectors_and_frames_in_playwright_terms():
    assert playwright_selector('label=Say "hi":') == 'internal:label="Say \\"hi\\":"s'
    assert playwright_selector("#amount") == "#amount"
    assert frame_css("content") == (
        "iframe[name='content'], frame[name='content'], "
        "iframe[id='content']:not([name]), frame[id='content']:not([name])"
    )
    assert frame_css("iframe#main") == "iframe#main"
    assert frame_css('iframe[src="/nav"]') == 'iframe[src="/nav"]'


def test_a_proposal_ranks_unique_matches_first_and_keeps_other_elements(repo_path):
    repo = SelectorRepository.load(repo_path)
    ranking = proposed_ranking(repo["username"].candidates, [0, 1, 1])
    assert ranking == ["input[name=username]", "label=User name:", "#username"]

    first = write_proposal(repo, repo["username"], ranking, "run A: #username matched 0", "A")
    second = write_proposal(
        repo, repo["nav_search"], ["text=Search invoices", "#nav-search"], "run B", "B"
    )
    assert first == second == repo_path.parent / "ap.proposed.yaml"
    text = first.read_text()
    header = "# Healing proposal for selectors/ap.yaml, written by deskhand runs: A, B.\n"
    assert text.startswith(header)
    proposed = SelectorRepository.load(first)
    assert proposed["username"].candidates == tuple(ranking)
    assert proposed["nav_search"].frames == ("nav",) and proposed["nav_search"].page == "navigation"
    assert "run A: #username matched 0" in text
    assert repo_path.read_text() == REPOSITORY  # the repository itself is never touched


@pytest.mark.parametrize("variant", ["normal", "shifted"])
def test_check_reports_which_selectors_resolve_on_the_live_page(variant, tmp_path, browser):
    repo = SelectorRepository.load(ROOT / "selectors" / "legacy_ap.yaml")
    context = browser.new_context()
    try:
        with demo_app(ROOT, tmp_path / "app.db", variant=variant) as url:
            page = context.new_page()
            page.goto(url + "login")
            results = {r.element: r for r in check_page(repo, page)}
    finally:
        context.close()

    username = results["username"]
    if variant == "normal":
        assert (username.status, username.winner) == ("ok", "#username")
        assert results["login_button"].status == "ok"
    else:
        assert (username.status, username.winner) == ("fallback", "input[name=username]")
        assert username.matches == [0, 1]
        assert results["login_button"].winner == "input[type=submit][value='Log in']"
    assert results["login_errors"].status == "not found"  # shown only after a failed log-in
    assert results["invoice_number"].status == "not on this page"  # in a frame not shown
    assert results["nav_search"].status == "not on this page"
    assert results["line_amount"].status == "not checked"  # needs {n}


def test_selectors_check_command_prints_each_element_and_fails_on_fallbacks(
    tmp_path, browser, capsys
):
    root = tmp_path / "project"
    (root / "selectors").mkdir(parents=True)
    shutil.copy(ROOT / "selectors" / "legacy_ap.yaml", root / "selectors")
    with demo_app(ROOT, tmp_path / "app.db", variant="shifted") as url:
        args = Namespace(name="legacy_ap", url=url, timeout=10.0)
        code = run_check(args, root, browser=browser)
    out = capsys.readouterr().out

    assert code == 1
    assert out.startswith(f"selectors/legacy_ap.yaml on {url}login\nlogin:\n")
    assert "  fallback          username" in out
    assert "input[name=username]  (first choice '#username' matches 0)" in out
    assert "\ninvoice_form: not on this page (" in out
    assert "  not found         login_errors" in out  # reported, not a failure
    with pytest.raises(ConfigError, match="selector repository .*nope.yaml not found"):
        run_check(Namespace(name="nope", url=url, timeout=1.0), root, browser=browser)


def test_lists_with_cells_and_next_and_radio_groups(tmp_path):
    path = tmp_path / "ap.yaml"
    path.write_text(
        "search:\n"
        "  results:\n"
        "    candidates: ['#results tr']\n"
        "    cells: {vendor: ['.vendor', 'td:nth-child(2)'], amount: '.amount'}\n"
        "    next: results_next\n"
        "  results_next: ['#next']\n"
        "  terms_group: {candidates: ['input[name=terms]'], many: true}\n"
    )
    repo = SelectorRepository.load(path)
    results = repo["results"]
    assert results.many and results.next == "results_next"
    assert dict(results.cells) == {"vendor": (".vendor", "td:nth-child(2)"), "amount": (".amount",)}
    assert repo["terms_group"].many and not repo["results_next"].many
    path.write_text("search:\n  results: {candidates: ['tr'], cells: {vendor: ['text=Acme']}}\n")
    with pytest.raises(ConfigError, match="cell 'vendor': give a list of CSS selectors"):
        SelectorRepository.load(path)


def test_placeholders_are_escaped_and_missing_ones_named(repo_path):
    repo = SelectorRepository.load(repo_path)
    spec = repo["line_amount"]
    assert spec.placeholders() == ["n"]
    assert spec.with_values({"n": 2}).candidates == ("#line_amount_2",)
    with pytest.raises(ConfigError, match=r"element 'line_amount' needs values .*: n=\.\.\."):
        spec.with_values({})
    quoted = type(spec)("v", "p", ("a[data-name='{name}']", "label={name}"))
    filled = quoted.with_values({"name": "O'Brien\\"})
    assert filled.candidates == ("a[data-name='O\\'Brien\\\\']", "label=O'Brien\\")
