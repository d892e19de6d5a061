"""The run journal: typed events (:mod:`.events`), their one writer (:mod:`.writer`), the
reader that builds the run model every view renders from (:mod:`.model`), the text views
(:mod:`.text`: bot.log's lines) and the JSON Schema of ``steps.jsonl`` (:mod:`.schema`).

``logs/<bot>/<run-id>/steps.jsonl`` is the single source of truth of a run; bot.log, the
HTML report, the run summary and ``run_end``'s counts, alerts and the console are views of
:func:`read_run`'s model.
"""

from __future__ import annotations

from .events import SCHEMA_VERSION, Event, from_dict, make
from .model import AttemptRun, ItemRun, RunModel, StepRun, build, read_lines, read_run
from .text import bot_log_line, counts_text, human_line, render_bot_log
from .writer import JournalWriter

__all__ = [
    "SCHEMA_VERSION",
    "AttemptRun",
    "Event",
    "ItemRun",
    "JournalWriter",
    "RunModel",
    "StepRun",
    "bot_log_line",
    "build",
    "counts_text",
    "from_dict",
    "human_line",
    "make",
    "read_lines",
    "read_run",
    "render_bot_log",
]
