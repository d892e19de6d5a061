"""The review report: one self-contained HTML page rendered from ``steps.jsonl`` alone.

Everything that came from a document or a page is escaped (Jinja2 autoescape); screenshots
are embedded, so the page can be mailed or archived as one file. The page is masked once
more as a whole (deskhand.masking) and written owner-only (deskhand.private).
"""

from __future__ import annotations

import base64
import re
from collections import Counter
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from .. import private
from ..logs import mask, read_events

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
    """The report's model: the run and its items, each with attempts, steps and values."""
    run: dict[str, Any] = {
        "bot": "",
        "run_id": "",
        "start": None,
        "end": None,
        "settings": {},
        "messages": [],
        "healing": {},
    }
    items: dict[str, dict[str, Any]] = {}
    for e in events:
        kind = e["event"]
        if kind == "healing":
            _healing(run["healing"], e)
        if kind == "run_start":
            run.update(bot=e["bot"], run_id=e["run_id"], start=e["ts"], settings=e.get("settings"))
            continue
        if kind == "run_end":
            run["end"] = e["ts"]
            continue
        ref = e.get("item")
        if ref is None:
            if kind in ("log", "warning"):
                run["messages"].append(e.get("message"))
            continue
        item = items.setdefault(
            ref,
            {
                "reference": ref,
                "attempts": [],
                "values": {},
                "status": "unfinished",
                "payload": {},
                "output": {},
                "error": None,
                "warnings": [],
                "duration_ms": None,
            },
        )
        if kind == "item_start":
            item["payload"] = e.get("data") or {}
            item["attempts"].append({"number": e.get("attempt"), "steps": [], "retry": None})
            continue
        attempt = item["attempts"][-1] if item["attempts"] else None
        if kind == "step_start" and attempt is not None:
            attempt["steps"].append(
                {
                    "name": e["step"],
                    "data": e.get("data"),
                    "status": "running",
                    "duration_ms": None,
                    "error": None,
                    "shots": [],
                    "html": [],
                    "actions": 0,
                    "point_of_no_return": e.get("point_of_no_return"),
                }
            )
        elif kind == "step_end" and attempt is not None:
            step = next(
                (
                    s
                    for s in reversed(attempt["steps"])
                    if s["name"] == e["step"] and s["status"] == "running"
                ),
                None,
            )
            if step is not None:
                step.update(
                    status=e["status"],
                    duration_ms=e.get("duration_ms"),
                    error=e.get("error"),
                    html=e.get("html") or [],
                )
                if e.get("screenshot"):
                    step["shots"].append(
                        {"path": e["screenshot"], "src": _embed(run_dir, e["screenshot"])}
                    )
        elif kind == "action" and attempt is not None:
            running = [s for s in attempt["steps"] if s["status"] == "running"]
            if running:
                running[-1]["actions"] += 1
        elif kind == "values":
            item["values"][e["kind"]] = e.get("data") or {}
        elif kind == "warning":
            item["warnings"].append(e.get("message"))
        elif kind == "retry" and attempt is not None:
            attempt["retry"] = e.get("message")
        elif kind == "item_end":
            item.update(
                status=e["status"],
                output=e.get("output") or {},
                error=e.get("error"),
                duration_ms=e.get("duration_ms"),
            )
    for item in items.values():
        item["comparison"] = _comparison(item["values"])
    counts = Counter(i["status"] for i in items.values())
    run["healing"] = list(run["healing"].values())
    return {"run": run, "items": list(items.values()), "counts": dict(counts)}


def _healing(found: dict[tuple, dict[str, Any]], e: dict) -> None:
    """A selector healed in this run: the element, how each selector fared, the proposal."""
    key = (e.get("repository"), e.get("element"))
    entry = found.setdefault(
        key,
        {
            "repository": e.get("repository"),
            "element": e.get("element"),
            "page": e.get("page"),
            "frame": " > ".join(e.get("frame") or []),
            "candidates": e.get("candidates") or [],
            "proposed": e.get("proposed") or [],
            "proposal": e.get("proposal"),
            "items": [],
        },
    )
    if e.get("item") and e["item"] not in entry["items"]:
        entry["items"].append(e["item"])


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


def render_report(run_dir: Path) -> Path:
    """Write ``report.html`` in ``run_dir`` from its ``steps.jsonl``; return its path."""
    run_dir = Path(run_dir)
    model = summarise(read_events(run_dir), run_dir)
    html = _env.get_template("report.html").render(**model)
    return private.write_text(run_dir / "report.html", _masked(html))


_PICTURE = re.compile(r"(data:image/png;base64,[A-Za-z0-9+/=]*)")


def _masked(html: str) -> str:
    """The page masked once more as a whole, except its embedded pictures (a short secret
    could turn up in their base64 by chance, and masking it there would break them)."""
    parts = _PICTURE.split(html)
    return "".join(part if n % 2 else mask(part) for n, part in enumerate(parts))
