"""What was recorded, as actions: the raw events of the browser and of the injected script
turned into the steps a bot repeats.

Raw events are dictionaries (``type``, ``t`` in epoch milliseconds, ``page_id``, ...).
:func:`actions` sorts them in time, coalesces typing into one fill per field, and attaches
to each action what it caused: the navigation it started (and in which frame), the popup it
opened, the dialog it raised and how the person answered it, the popup it closed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

USER_ACTIONS = {"click", "fill", "select", "check", "uncheck", "press", "upload"}
# What an action may cause, and how long after it (ms) that still counts as its effect.
CAUSE_WINDOW_MS = 15_000
CLOSE_WINDOW_MS = 3_000
NAVIGATION_WINDOW_MS = 5_000


@dataclass(frozen=True)
class Target:
    """An element the person used, as the recorder saw it."""

    kind: str  # link, button, textbox, password, select, checkbox, radio, file, other
    hint: str  # the words naming it: its label, its text, its name
    candidates: tuple[str, ...]
    frames: tuple[str, ...] = ()
    group: str = ""  # a radio button's group (its name attribute)
    value: str = ""  # a radio button's value attribute
    login: bool = False  # in a form with a password field
    name: str = ""  # its name attribute
    label: str = ""  # its label, or the text just before it
    modal: bool = False  # inside a dialog drawn over the page

    @property
    def key(self) -> tuple:
        return (self.frames, self.candidates[0] if self.candidates else self.hint)


@dataclass
class Dialog:
    kind: str  # alert, confirm, prompt
    message: str
    accepted: bool
    value: str | None = None
    answered: float = 0.0  # when the person answered it (epoch ms)


@dataclass
class Action:
    """One thing to do again: ``kind`` is a USER_ACTIONS word, ``goto`` or ``close``."""

    kind: str
    page_id: str
    t: float
    page_title: str = ""
    target: Target | None = None
    value: str | None = None  # typed text, chosen option's value
    label: str | None = None  # chosen option's text
    secret: bool = False
    key: str | None = None
    files: list[str] = field(default_factory=list)
    url: str | None = None
    navigation: str | None = None  # "" the page itself, else the frame that navigated
    popup: str | None = None  # page_id of the popup it opened
    closes: bool = False  # it closed its own page (a popup)
    dialog: Dialog | None = None
    form: dict[str, Any] | None = None  # the form it submitted: every field's state
    shown: list[dict[str, Any]] = field(default_factory=list)  # label/value texts it led to
    address: str = ""  # the address of the page (or frame) it was done on
    default: bool = False  # not done by the person: a field of a submitted form left as it was


def target_of(event: dict[str, Any]) -> Target | None:
    raw = event.get("target")
    if not raw:
        return None
    return Target(
        kind=raw.get("kind", "other"),
        hint=raw.get("hint") or raw.get("tag", ""),
        candidates=tuple(raw.get("candidates") or ()),
        frames=tuple(event.get("frames") or ()),
        group=raw.get("group") or "",
        login=bool(raw.get("login")),
        value=raw.get("value") or "",
        name=raw.get("name") or "",
        label=raw.get("label") or "",
        modal=bool(raw.get("modal")),
    )


def actions(events: list[dict[str, Any]]) -> list[Action]:
    """The recorded events as actions, in the order the person did them."""
    ordered = sorted(events, key=lambda e: e["t"])
    result: list[Action] = []
    main_closed = min(
        (e["t"] for e in ordered if e["type"] == "close" and e.get("main")), default=None
    )
    for event in ordered:
        kind = event["type"]
        if kind in USER_ACTIONS:
            _add_user_action(result, event)
        elif kind == "goto":
            result.append(Action("goto", event["page_id"], event["t"], url=event["url"]))
        elif kind == "navigation":
            _navigation(result, event)
        elif kind == "popup":
            cause = _cause(result, event.get("opener"), event["t"], lambda a: a.popup is None)
            if cause is not None:
                cause.popup = event["page_id"]
        elif kind == "dialog":
            cause = _cause(result, event["page_id"], event["t"], lambda a: a.dialog is None)
            if cause is not None:
                cause.dialog = Dialog(
                    event.get("kind", "confirm"),
                    event.get("message", ""),
                    bool(event.get("accepted")),
                    event.get("value"),
                    event.get("answered") or event["t"],
                )
        elif kind == "submit":
            cause = _cause(result, event["page_id"], event["t"], lambda a: a.form is None)
            if cause is not None:
                cause.form = event.get("form")
        elif kind == "shown":
            _shown(result, event)
        elif kind == "close" and not event.get("main"):
            if main_closed is not None and event["t"] >= main_closed - 1000:
                continue  # the browser was closed with the popup still open: the end
            cause = _cause(result, event["page_id"], event["t"], lambda a: not a.closes)
            if cause is not None and event["t"] - cause.t <= CLOSE_WINDOW_MS:
                cause.closes = True
            else:
                result.append(Action("close", event["page_id"], event["t"]))
    return result


def _add_user_action(result: list[Action], event: dict[str, Any]) -> None:
    target = target_of(event)
    page = event.get("page") or {}
    action = Action(
        event["type"],
        event["page_id"],
        event["t"],
        page_title=page.get("title", ""),
        target=target,
        value=event.get("value"),
        label=event.get("label"),
        secret=bool(event.get("secret")),
        key=event.get("key"),
        files=list(event.get("files") or ()),
        address=event.get("url") or "",
    )
    mine = [a for a in result if a.page_id == action.page_id]
    if mine and mine[-1].kind == "goto" and target is not None and not target.frames:
        # Open the page where the work began (the log-in a redirect showed), not the address
        # that redirected there: the redirect may depend on a session the bot does not have.
        mine[-1].url = event.get("url") or mine[-1].url
    if action.kind == "fill" and target is not None:
        same = [a for a in result if a.kind == "fill" and a.target and a.target.key == target.key]
        if same and result[-1] is same[-1] and same[-1].page_id == action.page_id:
            same[-1].value, same[-1].secret, same[-1].t = action.value, action.secret, action.t
            return  # still typing in the same field
        if same and same[-1].value == action.value and same[-1].secret == action.secret:
            return  # the field's change event, after other actions: nothing new
    result.append(action)


def _cause(result: list[Action], page_id: str | None, t: float, free) -> Action | None:
    """The latest user action on ``page_id`` before ``t`` that can still take an effect."""
    for action in reversed(result):
        if action.page_id != page_id or action.kind not in USER_ACTIONS:
            continue
        if t - action.t > CAUSE_WINDOW_MS or not free(action):
            return None
        return action
    return None


def _navigation(result: list[Action], event: dict[str, Any]) -> None:
    """A frame loaded a new document: the effect of the last click or Enter on that page, or
    (for the page itself, long after any action) an address the person typed."""
    page_id, frame = event["page_id"], event.get("frame") or ""
    mine = [a for a in result if a.page_id == page_id]
    if not mine:
        return  # the page's first document: opened by goto or as a popup
    last = mine[-1]
    since = max(last.t, last.dialog.answered if last.dialog else 0)
    recent = event["t"] - since <= NAVIGATION_WINDOW_MS
    if last.kind in ("click", "press") and last.navigation is None and recent:
        last.navigation = frame
    elif not frame and not recent:
        result.append(Action("goto", page_id, event["t"], url=event["url"]))


def _shown(result: list[Action], event: dict[str, Any]) -> None:
    """What a page shows once loaded belongs to the action that opened it: the last one of
    its page that navigated (or the page's opening)."""
    for action in reversed(result):
        if action.page_id != event["page_id"]:
            continue
        if action.navigation is not None or action.kind in ("goto", "click", "press"):
            frames = list(event.get("frames") or ())
            title = (event.get("page") or {}).get("title", "")
            cells = event.get("cells") or ()
            action.shown += [{**cell, "frames": frames, "title": title} for cell in cells]
        return
