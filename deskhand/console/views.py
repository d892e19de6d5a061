"""Runs, the queue, an item, bulk actions, runners, people: the console's pages."""

from __future__ import annotations

from pathlib import Path

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask.typing import ResponseReturnValue

from ..queue import IN_PROGRESS, STATUSES
from ..queue import runners as runner_rows
from ..queue.rows import utc
from ..status import ITEM_OUTCOMES
from . import items as q
from . import runs as run_folders
from .auth import add_user, current_user, list_users, remove_user, require
from .tables import ROLES

bp = Blueprint("views", __name__)
RUN_STATUSES = tuple(str(s) for s in ITEM_OUTCOMES)  # an item's status at the end of a run


def _console():
    return current_app.extensions["deskhand_console"]


@bp.route("/")
def index() -> ResponseReturnValue:
    return redirect(url_for("views.runs"))


# -- runs -------------------------------------------------------------------------------------
@bp.route("/runs")
@require("viewer")
def runs() -> ResponseReturnValue:
    console = _console()
    bot = request.args.get("bot", "")
    status = request.args.get("status", "")
    if status and status not in RUN_STATUSES:
        abort(400, f"unknown status {status!r}: use one of {', '.join(RUN_STATUSES)}")
    every = run_folders.run_dirs(console.logs_dir)
    bots = sorted({d.parent.name for d in every})
    shown = run_folders.all_runs(console.logs_dir, bot or None, status or None)
    return render_template(
        "runs.html", runs=shown, bots=bots, bot=bot, status=status, statuses=RUN_STATUSES
    )


def _run_dir(bot: str, run_id: str) -> Path:
    found = run_folders.find_run(_console().logs_dir, bot, run_id)
    if found is None:
        abort(404, f"no run {run_id} of {bot}")
    return found


@bp.route("/runs/<bot>/<run_id>")
@require("viewer")
def run(bot: str, run_id: str) -> ResponseReturnValue:
    """One run: its items, each linked to the queue's item page."""
    console = _console()
    model = run_folders.load(_run_dir(bot, run_id))
    queue = model["run"]["queue"]
    ids = q.ids_by_reference(console.engine, queue, [i["reference"] for i in model["items"]])
    rows = [
        {
            **item,
            "id": ids.get(item["reference"]),
            "label": q.label(item["reference"], item["payload"]),
        }
        for item in model["items"]
    ]
    return render_template("run.html", model=model, run=model["run"], rows=rows)


@bp.route("/runs/<bot>/<run_id>/report.html")
@require("viewer")
def report(bot: str, run_id: str) -> ResponseReturnValue:
    from ..report import render_report

    run_dir = _run_dir(bot, run_id)
    path = run_dir / "report.html"
    if not path.is_file():
        path = render_report(run_dir)  # a run still going, or one that crashed
    response = send_file(path, mimetype="text/html")
    response.headers["Content-Security-Policy"] = current_app.config["REPORT_CSP"]
    return response


@bp.route("/runs/<bot>/<run_id>/trace.zip")
@require("viewer")
def trace(bot: str, run_id: str) -> ResponseReturnValue:
    path = _run_dir(bot, run_id) / "trace.zip"
    if not path.is_file():
        abort(404, "this run recorded no trace (run it with --trace)")
    return send_file(path, as_attachment=True, download_name=f"{bot}-{run_id}-trace.zip")


@bp.route("/runs/<bot>/<run_id>/files/<path:name>")
@require("viewer")
def run_file(bot: str, run_id: str, name: str) -> ResponseReturnValue:
    """Evidence: screenshots inline; a page's HTML only as a download, never rendered here."""
    run_dir = _run_dir(bot, run_id).resolve()
    path = (run_dir / name).resolve()
    if run_dir not in path.parents or not path.is_file():
        abort(404, "no such file in this run")
    if path.suffix.lower() == ".png":
        return send_file(path, mimetype="image/png")
    response = send_file(path, mimetype="text/plain", as_attachment=True)
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


# -- the queue --------------------------------------------------------------------------------
def _filter(source) -> q.Filter:
    status = source.get("status", "")
    if status and status not in STATUSES:
        abort(400, f"unknown status {status!r}: use one of {', '.join(STATUSES)}")
    return q.Filter(source.get("queue", ""), status, source.get("q", "").strip()[:200])


@bp.route("/queue")
@require("viewer")
def queue() -> ResponseReturnValue:
    console = _console()
    where = _filter(request.args)
    before = request.args.get("before", type=int)
    rows = q.listing(console.engine, where, before)
    more = rows[-1]["id"] if len(rows) == q.PAGE_SIZE else None
    leases = {row["id"]: row["lease_owner"] for row in rows if row["status"] == IN_PROGRESS}
    held = runner_rows.held_by(console.store, leases)
    return render_template(
        "queue.html",
        rows=rows,
        held=held,
        counts=q.counts(console.engine),
        where=where,
        statuses=STATUSES,
        actions=q.ACTIONS,
        more=more,
    )


@bp.route("/queue/bulk", methods=["POST"])
@require("operator")
def bulk() -> ResponseReturnValue:
    """Retry / requeue / cancel the selected items, or every item matching the filter,
    after the person confirmed the number of items it applies to."""
    console = _console()
    action = request.form.get("action", "")
    if action not in q.ACTIONS:
        abort(400, f"unknown action {action!r}: use one of {', '.join(q.ACTIONS)}")
    statuses = q.ACTIONS[action]
    where = _filter(request.form)
    scope = request.form.get("scope", "selected")
    if scope == "filter":
        ids = q.matching(console.engine, where, statuses)
    else:
        try:
            chosen = [int(i) for i in request.form.getlist("ids")]
        except ValueError:
            abort(400, "item ids must be numbers")
        ids = q.eligible(console.engine, chosen, statuses)
    confirmed = request.form.get("confirm", type=int)
    changed = confirmed is not None and confirmed != len(ids)
    if confirmed is None or changed or not ids:
        return render_template(
            "confirm.html",
            action=action,
            statuses=statuses,
            ids=ids,
            scope=scope,
            where=where,
            changed=changed,
            back=request.form.get("back") or url_for("views.queue", **where.args()),
        )
    done, problems = q.apply_action(console.store, action, ids, by=current_user()["name"])
    flash(f"{action}: {done} of {len(ids)} items", "ok" if not problems else "warning")
    for problem in problems[:10]:
        flash(problem, "warning")
    back = request.form.get("back", "")
    if not back.startswith("/") or back.startswith("//"):
        back = url_for("views.queue", **where.args())
    return redirect(back)


@bp.route("/items/<int:item_id>")
@require("viewer")
def item(item_id: int) -> ResponseReturnValue:
    console = _console()
    found = console.store.get(item_id)
    if found is None:
        abort(404, f"no item {item_id}")
    attempts = run_folders.item_attempts(console.logs_dir, found.queue, found.reference)
    holder = None
    if found.status == IN_PROGRESS and found.lease_owner:
        holder = runner_rows.held_by(console.store, {found.id: found.lease_owner})[found.id]
    return render_template(
        "item.html",
        item=found,
        holder=holder,
        lease_left=_left(utc(None), found.lease_expires) if holder else "",
        label=q.label(found.reference, found.payload),
        history=console.store.history(item_id),
        runs=attempts,
        actions={a: s for a, s in q.ACTIONS.items() if found.status in s},
    )


def _left(now, until) -> str:
    """``in 40 s`` or ``ran out 3 min ago``."""
    if until is None:
        return ""
    return f"in {q.age(until, now)}" if until > now else f"ran out {q.age(now, until)} ago"


# -- runners ----------------------------------------------------------------------------------
RUNNERS_SHOWN = 100


@bp.route("/runners")
@require("viewer")
def runners() -> ResponseReturnValue:
    """The registered runners: those working or lost first (latest beat first), then the
    stopped ones; where each runs, its health, what it holds."""
    console = _console()
    now = utc(None)  # the queue's time (measured at start), as the runners' states are judged
    found = runner_rows.list_runners(console.store, RUNNERS_SHOWN + 1)
    more = len(found) > RUNNERS_SHOWN
    found = found[:RUNNERS_SHOWN]
    held = runner_rows.held_items(console.store, [r.id for r in found])
    rows = [
        {
            "runner": r,
            "state": r.state(now),
            "beat": f"{q.age(now, r.heartbeat_at)} ago",
            "held": held.get(r.id, []),
        }
        for r in found
    ]
    return render_template("runners.html", rows=rows, more=more, shown=RUNNERS_SHOWN)


# -- people -----------------------------------------------------------------------------------
@bp.route("/users", methods=["GET", "POST"])
@require("admin")
def users() -> ResponseReturnValue:
    console = _console()
    if request.method == "POST":
        from ..errors import ConfigError

        name = request.form.get("name", "").strip()
        try:
            if request.form.get("remove"):
                if name == current_user()["name"]:
                    abort(409, "you cannot remove yourself: ask another admin")
                remove_user(console.engine, name)
                flash(f"{name} can no longer log in", "ok")
            else:
                add_user(
                    console.engine,
                    name,
                    request.form.get("role", ""),
                    request.form.get("password", ""),
                )
                flash(f"{name} saved", "ok")
        except ConfigError as exc:
            flash(str(exc), "warning")
        return redirect(url_for("views.users"))
    return render_template("users.html", users=list_users(console.engine), roles=ROLES)
