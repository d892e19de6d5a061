"""Desktop programs: keying into windows with the mouse and keyboard, finding things by
image and by OCR text, on a real X display or on a virtual one (Xvfb).

In a bot::

    from deskhand.desktop import open_desktop

    desk = open_desktop(ctx, images="desktop_ap")       # images: selectors/desktop_ap/*.png
    with ctx.step("start the program"):
        app = desk.start(["legacy-ap", "--db", db], window="Invoice Entry")
    with ctx.step("fill invoice"):
        app.text("Invoice no.:").right_of(20).fill("000482")  # OCR label, field beside it
        desk.press("tab")
        desk.type("Zoë & Søn")                                 # any Unicode text
    with ctx.step("save", point_of_no_return=True):
        desk.image("save_button").click()                    # template match, 100-150 %
        dialog = desk.window("Confirm save")
        dialog.text("Yes").click()

Every action is written to the step log as an ``action`` event. A target that does not
show within its time limit (``timeout_ms``, default 10 s) raises SelectorNotFound after
saving a screenshot with the searched region marked in red (the best rejected candidate in
green) into the run's ``screenshots/`` folder.

Without ``$DISPLAY`` the run gets its own Xvfb; :func:`virtual_display` does the same for
any block of code. pyautogui is imported only when first used, pointed at that display.
"""

from __future__ import annotations

from ..actions import ActionLog
from .desktop import Desktop, Window
from .display import virtual_display, xvfb
from .screen import Region
from .session import DesktopSession
from .targets import Found, Target

__all__ = [
    "Desktop",
    "DesktopSession",
    "Found",
    "Region",
    "Target",
    "Window",
    "open_desktop",
    "virtual_display",
    "xvfb",
]


def open_desktop(ctx: ActionLog, images: str | None = None, virtual: bool | None = None) -> Desktop:
    """The desktop for this item: the run's display (started on first use, Xvfb when there
    is no ``$DISPLAY`` or ``virtual=True``) bound to ``ctx`` for logging and evidence.
    ``images`` names the folder ``selectors/<images>/`` of the bot's image targets.

    The session (display, programs started) lasts until the run ends.
    """
    run = ctx.run
    runner_closes_it = "desktop_session" in vars(run)  # Run.close() stops it
    session = getattr(run, "desktop_session", None)
    fresh = session is None or session.closed
    if fresh:
        session = DesktopSession(virtual=virtual, folder=run.log.dir).start()
        run.desktop_session = session
        if not runner_closes_it:
            _close_with_run(run, session)
    folder = ctx.settings.root / "selectors" / images if images else None
    desktop = Desktop(session, ctx, folder, timeout=ctx.settings.timeout_ms / 1000)
    if fresh:
        xvfb = session.xvfb.proc.pid if session.xvfb else None
        ctx.action("display", session.display, {"virtual": session.is_virtual, "xvfb_pid": xvfb})
    ctx.last_page = desktop  # a failed step photographs the screen
    return desktop


def _close_with_run(run, session: DesktopSession) -> None:
    """Close the session when the run closes (until Run.close does it itself)."""
    close = run.close

    def close_run_and_desktop() -> None:
        try:
            close()
        finally:
            session.close()
            run.close = close

    run.close = close_run_and_desktop
