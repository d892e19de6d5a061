"""The Flask application: configuration, security headers, errors, blueprints."""

from __future__ import annotations

import shutil
import tempfile
import weakref
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError, CSRFProtect
from sqlalchemy import Engine, exc

from ..queue import DatabaseUnavailable
from ..queue.schema import create_queue_engine, mask_url, resolve_url
from ..queue.store import measure_clock
from . import auth, tables

# Only this site's own files; no inline script or style; never framed.
CSP = (
    "default-src 'none'; img-src 'self'; style-src 'self'; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
# A run's report.html is self-contained (inline style, embedded images) and has no script.
REPORT_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; sandbox"


@dataclass
class Console:
    """What the views share: the database, the queue's store, where the runs are."""

    engine: Engine
    store: Any  # deskhand.queue.Store on the same engine
    logs_dir: Path
    root: Path
    url: str  # the database URL, password masked
    files: Path  # this console's copies of the documents the queue holds (owner-only)


def create_app(
    db: str | None = None,
    logs_dir: Path | str = "logs",
    root: Path | str | None = None,
    *,
    secure_cookies: bool = False,
) -> Flask:
    """The console for the queue database ``db`` (default: ``$DESKHAND_DB`` or
    ``<root>/.deskhand/queue.db``) and the run folders in ``logs_dir``."""
    from ..queue import Store

    root = Path(root) if root is not None else Path.cwd()
    url = resolve_url(db, root)
    engine = create_queue_engine(url)
    measure_clock(engine)  # runners' beats and leases are in the database's time
    tables.create_tables(engine)
    logs = Path(logs_dir)
    logs = logs if logs.is_absolute() else root / logs
    files = Path(tempfile.mkdtemp(prefix="deskhand-console-"))  # 0700
    console = Console(engine, Store(engine, mask_url(url)), logs, root, mask_url(url), files)

    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=tables.session_key(engine),
        SESSION_COOKIE_NAME="deskhand_console",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure_cookies,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=8),
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
        MAX_CONTENT_LENGTH=1_000_000,
        REPORT_CSP=REPORT_CSP,
    )
    app.extensions["deskhand_console"] = console
    weakref.finalize(app, shutil.rmtree, files, ignore_errors=True)
    CSRFProtect(app)

    from . import station, views

    app.register_blueprint(auth.bp)
    app.register_blueprint(views.bp)
    app.register_blueprint(station.bp)
    app.jinja_env.globals.update(can=auth.can, current_user=auth.current_user)
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.after_request
    def headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.errorhandler(CSRFError)
    def csrf_refused(error):
        message = f"form refused: {error.description} Reload the page and try again."
        return render_template("error.html", code=400, message=message), 400

    @app.errorhandler(DatabaseUnavailable)
    @app.errorhandler(exc.OperationalError)
    def database_down(error):
        message = f"the queue database {console.url} does not answer: check that it is running"
        return render_template("error.html", code=503, message=message), 503

    for code in (400, 403, 404, 409, 413):

        @app.errorhandler(code)
        def refused(error, code=code):
            return render_template("error.html", code=code, message=error.description), code

    return app
