"""People and permissions: local users, hashed passwords, roles, log-in and log-out.

Roles are ordered: viewer (look), reviewer (+ correct, approve, reject items in review),
operator (+ retry, cancel, requeue), admin (+ manage people). Passwords are hashed with
werkzeug.security (scrypt); log-in is refused for a while after repeated failures for the
same name or from the same address.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, session
from flask import url_for as _url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import Engine, func, insert, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from ..errors import ConfigError
from .tables import ROLES, logins, reading, users, utcnow, writing

FAILURE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_NAME = 5  # then that name is locked for the rest of the window
MAX_FAILURES_PER_ADDRESS = 20
MIN_PASSWORD = 8
# Checked when the name is unknown, so that a wrong name takes as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not a password of anyone")

bp = Blueprint("auth", __name__)


# -- people ---------------------------------------------------------------------------------
def add_user(engine: Engine, name: str, role: str, password: str) -> None:
    """Create user ``name`` (or set a new role and password if it exists)."""
    name = name.strip()
    if not name or len(name) > 80 or any(c.isspace() for c in name):
        raise ConfigError(f"user name {name!r}: use one word of at most 80 characters")
    if role not in ROLES:
        raise ConfigError(f"role {role!r}: use one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD:
        raise ConfigError(
            f"the password is shorter than {MIN_PASSWORD} characters: choose a longer one"
        )
    values = {"password_hash": generate_password_hash(password), "role": role, "active": True}
    with writing(engine) as conn:
        found = conn.execute(select(users.c.id).where(users.c.name == name)).scalar()
        if found is None:
            conn.execute(insert(users).values(name=name, created_at=utcnow(), **values))
        else:
            conn.execute(update(users).where(users.c.id == found).values(**values))


def remove_user(engine: Engine, name: str) -> bool:
    """Deactivate ``name`` (their history stays attributed); False when unknown."""
    with writing(engine) as conn:
        result = conn.execute(update(users).where(users.c.name == name).values(active=False))
    return result.rowcount > 0


def list_users(engine: Engine) -> list[dict[str, Any]]:
    with reading(engine) as conn:
        rows = conn.execute(select(users).order_by(users.c.name)).all()
    return [{k: v for k, v in r._mapping.items() if k != "password_hash"} for r in rows]


def check_login(engine: Engine, name: str, password: str, address: str) -> tuple[dict | None, str]:
    """``(user, "")`` when ``name`` and ``password`` match an active user; else ``(None,
    reason)``. Every attempt is recorded; too many recent failures lock the name/address."""
    now = utcnow()
    since = now - FAILURE_WINDOW
    with reading(engine) as conn:
        failed = select(func.count()).where(logins.c.ok.is_(False), logins.c.at > since)
        by_name = conn.execute(failed.where(logins.c.name == name[:80])).scalar_one()
        by_address = conn.execute(failed.where(logins.c.address == address[:64])).scalar_one()
        row = conn.execute(select(users).where(users.c.name == name)).first()
    if by_name >= MAX_FAILURES_PER_NAME or by_address >= MAX_FAILURES_PER_ADDRESS:
        minutes = int(FAILURE_WINDOW.total_seconds() // 60)
        return None, f"too many failed log-ins: wait {minutes} minutes or ask an admin"
    ok = row is not None and row.active and check_password_hash(row.password_hash, password)
    if row is None:
        check_password_hash(_DUMMY_HASH, password)
    with writing(engine) as conn:
        conn.execute(
            insert(logins).values(at=now, name=name[:80], address=address[:64], ok=bool(ok))
        )
    if not ok:
        return None, "wrong user name or password"
    return {"id": row.id, "name": row.name, "role": row.role}, ""


# -- requests -------------------------------------------------------------------------------
def current_user() -> dict | None:
    """The logged-in user of this request (looked up each time: removal takes effect now)."""
    if "user" in g:
        return g.user
    g.user = None
    user_id = session.get("user_id")
    if user_id is not None:
        engine = current_app.extensions["deskhand_console"].engine
        with reading(engine) as conn:
            row = conn.execute(select(users).where(users.c.id == user_id)).first()
        if row is not None and row.active and _stamp(row.password_hash) == session.get("stamp"):
            g.user = {"id": row.id, "name": row.name, "role": row.role}
    return g.user


def _stamp(password_hash: str) -> str:
    """A short fingerprint of the stored hash, for the (readable) session cookie."""
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


def can(role: str) -> bool:
    """Whether the current user has ``role`` or a higher one."""
    user = current_user()
    return user is not None and ROLES.index(user["role"]) >= ROLES.index(role)


def require(role: str) -> Callable[[Callable], Callable]:
    """Decorate a view: log-in page when nobody is logged in, 403 below ``role``."""

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if current_user() is None:
                return redirect(_url_for("auth.login", next=request.full_path.rstrip("?")))
            if not can(role):
                abort(403, f"this needs the {role} role; you are {g.user['role']}")
            return view(*args, **kwargs)

        return wrapper

    return decorate


def _safe_next(target: str | None) -> str:
    # Only paths on this site: never an absolute or scheme-relative URL (open redirect).
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return _url_for("views.runs")
    return target


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    console = current_app.extensions["deskhand_console"]
    error = ""
    status = 200
    if request.method == "POST":
        name = request.form.get("name", "").strip()
        password = request.form.get("password", "")
        user, error = check_login(console.engine, name, password, request.remote_addr or "-")
        if user is not None:
            session.clear()
            session.permanent = True
            session["user_id"] = user["id"]
            with reading(console.engine) as conn:
                stored = conn.execute(
                    select(users.c.password_hash).where(users.c.id == user["id"])
                ).scalar_one()
            session["stamp"] = _stamp(stored)  # a new password ends the old sessions
            return redirect(_safe_next(request.args.get("next")))
        status = 429 if error.startswith("too many") else 401
    return render_template("login.html", error=error), status


@bp.route("/logout", methods=["POST"])
def logout() -> ResponseReturnValue:
    session.clear()
    return redirect(_url_for("auth.login"))
