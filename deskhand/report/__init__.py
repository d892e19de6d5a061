"""The review report: one self-contained HTML page rendered from the run model
(deskhand.journal) of ``steps.jsonl`` alone: the same model the run summary, bot.log's
run_end, alerts and the console are rendered from, so their statuses agree.

Everything that came from a document or a page is escaped (Jinja2 autoescape); screenshots
are embedded, so the page can be mailed or archived as one file. The page is masked once
more as a whole (deskhand.masking) and written owner-only (deskhand.private).
"""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from .. import private
from ..journal.model import ItemRun, RunModel, StepRun, build, read_run
from ..logs import mask

_env = Environment(
    loader=PackageLoader("deskhand", "report"),
    autoescape=select_autoescape(["html"], default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _embed(run_dir: Path, relative: str) -> str | None:
    path = (run_dir / relative).resolve()
    if run_dir.resolve() not in path.parents or not path.is_file():
        return None
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()


def summarise(events: list[dict], run_dir: Path) -> dict[str, Any]:
    """The report's view of a run: the run model (deskhand.journal) of ``events`` as the
    dicts the report and the console render (screenshots embedded)."""
    return view(build(events), run_dir)


def view(model: RunModel, run_dir: Path, embed: bool = True) -> dict[str, Any]:
    """The run model as plain dicts for a template: the run, its items (each with its
    attempts, steps, values and comparison) and ``counts`` (the statuses present; the same
    figures as the run summary). ``embed``: screenshots as data: URLs."""
    start, end = model.start, model.end
    run = {
        "bot": model.bot,
        "run_id": model.run_id,
        "start": start.ts if start else None,
        "end": end.ts if end else None,
        "settings": (start.settings if start else None) or {},
        "queue": start.queue if start else None,
        "trigger": start.trigger if start else None,
        "messages": list(model.messages),
        "healing": _healing(model),
        "torn": model.torn,
    }
    items = [_item(item, run_dir, embed) for item in model.items.values()]
    counts = {s: n for s, n in model.counts().items() if n}
    return {"run": run, "items": items, "counts": counts, "summary": model.counts()}


def _item(item: ItemRun, run_dir: Path, embed: bool) -> dict[str, Any]:
    error = item.error
    return {
        "reference": item.reference,
        "label": item.label,
        "status": str(item.status),
        "reconciled": item.reconciled,
        "payload": item.payload,
        "output": item.output,
        "error": _error(error),
        "warnings": list(item.warnings),
        "duration_ms": item.duration_ms,
        "values": item.values,
        "comparison": _comparison(item.values),
        "attempts": [
            {
                "number": attempt.number,
                "status": str(attempt.status),
                "retry": attempt.retry,
                "steps": [_step(step, run_dir, embed) for step in attempt.steps],
            }
            for attempt in item.attempts
        ],
    }


def _step(step: StepRun, run_dir: Path, embed: bool) -> dict[str, Any]:
    return {
        "name": step.name,
        "data": step.data,
        "status": str(step.status),
        "duration_ms": step.duration_ms,
        "error": _error(step.error),
        "shots": [
            {"path": shot, **({"src": _embed(run_dir, shot)} if embed else {})}
            for shot in step.screenshots
        ],
        "html": list(step.html),
        "actions": len(step.actions),
        "point_of_no_return": step.point_of_no_return or None,
    }


def _error(error: Any) -> dict[str, str] | None:
    return {"kind": error.kind, "message": error.message} if error else None


def _healing(model: RunModel) -> list[dict[str, Any]]:
    """Each selector healed in this run: the element, how each selector fared, the proposal."""
    found: dict[tuple, dict[str, Any]] = {}
    for e in model.healing:
        entry = found.setdefault(
            (e.repository, e.element),
            {
                "repository": e.repository,
                "element": e.element,
                "page": e.page,
                "frame": " > ".join(e.frame or []),
                "candidates": [
                    {"selector": c.selector, "matches": c.matches} for c in e.candidates or []
                ],  # fmt: skip
                "proposed": e.proposed or [],
                "proposal": e.proposal,
                "items": [],
            },
        )
        if e.item and e.item not in entry["items"]:
            entry["items"].append(e.item)
    return list(found.values())


def _comparison(values: dict[str, dict]) -> list[dict[str, Any]]:
    """Rows of field / extracted / reviewed / keyed / read back, with a mismatch flag
    (``reviewed``: a person's correction in the console, "… reviewed by X")."""
    kinds = ("extracted", "reviewed", "keyed", "read_back")
    names: list[str] = []
    for kind in kinds:
        for name in values.get(kind, {}):
            if name not in names:
                names.append(name)
    rows = []
    for name in names:
        cells = {k: values.get(k, {}).get(name) for k in kinds}
        keyed, back = cells["keyed"], cells["read_back"]
        mismatch = "keyed" in values and "read_back" in values and str(keyed) != str(back)
        rows.append({"field": name, **cells, "mismatch": mismatch})
    return rows


def render_report(run_dir: Path, model: RunModel | None = None) -> Path:
    """Write ``report.html`` in ``run_dir`` from its run model (read from ``steps.jsonl``
    unless given); return its path."""
    run_dir = Path(run_dir)
    if model is None:
        model = read_run(run_dir)
    html = _env.get_template("report.html").render(**view(model, run_dir))
    return private.write_text(run_dir / "report.html", _masked(html))


_PICTURE = re.compile(r"(data:image/png;base64,[A-Za-z0-9+/=]*)")


def _masked(html: str) -> str:
    """The page masked once more as a whole, except its embedded pictures (a short secret
    could turn up in their base64 by chance, and masking it there would break them)."""
    parts = _PICTURE.split(html)
    return "".join(part if n % 2 else mask(part) for n, part in enumerate(parts))
