"""__BOT__ on a sheet of its own: good rows are recorded, a bad amount goes to review."""

from __future__ import annotations

import csv
from pathlib import Path

from deskhand.bot import load_bot
from deskhand.config import load_settings
from deskhand.runner import run_bot

ROOT = Path(__file__).resolve().parents[1]


def test_good_rows_are_recorded_and_a_bad_amount_goes_to_review(tmp_path):
    sheet = tmp_path / "invoices.csv"
    sheet.write_text("invoice,vendor,amount\nA-1,Acme,10.00\nA-2,Acme,ten\n")
    bot = load_bot("__BOT__", ROOT)
    settings = load_settings(
        ROOT,
        bot.settings,
        {"input": sheet, "logs_dir": tmp_path / "logs", "db": f"sqlite:///{tmp_path / 'q.db'}"},
    )

    result = run_bot(bot, settings)

    statuses = {item.label: item.status for item in result.items}
    assert statuses == {"A-1": "done", "A-2": "needs_review"}
    with (result.dir.parent / "ledger.csv").open(newline="") as f:
        assert [row["invoice"] for row in csv.DictReader(f)] == ["A-1"]
