"""Recorded actions grouped into the steps a bot logs: one per page visited, the log-in
on its own, and the submit that creates a record as the point of no return, whatever
confirms it (a JavaScript confirm, an OK in an overlay, a posted form whose next page shows
a new record's number)."""

from __future__ import annotations

from dataclasses import dataclass, field

from . import forms
from .naming import identifier, page_name
from .recording import Action


def is_secret(action: Action) -> bool:
    """Passwords, and the user name typed in the same log-in form, come from the vault."""
    if action.kind != "fill" or action.target is None:
        return False
    return action.secret or (action.target.login and action.target.kind == "textbox")


@dataclass
class Step:
    """One logged step of the bot: its name, its page, its actions."""

    name: str
    key: tuple
    final: bool = False  # the point of no return
    actions: list[Action] = field(default_factory=list)
    login: bool = False


def creates_record(action: Action) -> bool:
    """The submit that creates a record, whatever confirms it: a JavaScript confirm the
    person accepted, an OK in a dialog drawn over the page that sent a form or left the
    page, or a posted form (not a log-in) whose next page shows a new record's number."""
    if action.target is None:
        return False
    dialog = action.dialog
    if dialog is not None and dialog.kind == "confirm" and dialog.accepted:
        return True
    form = action.form or {}
    login = any(f.get("kind") == "password" for f in form.get("fields", ()))
    if action.target.modal and (action.form or action.navigation is not None) and not login:
        return True
    posted = form.get("method") == "post" and not login
    return posted and forms.record_number(action.shown, []) is not None


def group_steps(actions: list[Action]) -> list[Step]:
    """Consecutive actions on one page form a step, named after the page; the submit that
    creates a record is a step of its own (with the click that opened its dialog), the point
    of no return; a log-in is a step of its own."""
    steps: list[Step] = []
    pending: list[Action] = []  # gotos and closes join the step that follows them
    for action in actions:
        if action.target is None:
            pending.append(action)
            continue
        key = (action.page_id, action.page_title.lower() or "page")
        login = action.target.login or action.secret
        if creates_record(action):
            opener = None
            last = steps[-1] if steps else None
            if action.target.modal and last and last.actions and last.actions[-1].kind == "click":
                if (
                    last.actions[-1].navigation is None
                    and last.actions[-1].page_id == action.page_id
                ):
                    opener = last.actions.pop()
            hint = (opener or action).target.hint
            steps.append(Step(identifier(hint, "submit").replace("_", " "), key, final=True))
            if opener is not None:
                steps[-1].actions.append(opener)
        elif login and (not steps or not steps[-1].login):
            steps.append(Step("log in", key, login=True))
        elif not steps or steps[-1].key != key or steps[-1].final:
            steps.append(Step(page_name(key[1]).replace("_", " "), key))
        steps[-1].actions += [*pending, action]
        pending = []
    if pending:
        steps.append(Step("finish", ("", ""), actions=pending))
    for index, step in enumerate(steps):  # "fill claim form" before "submit claim"
        after = steps[index + 1] if index + 1 < len(steps) else Step("", ("", ""))
        words = after.name.split()
        if after.final and step.key == after.key and not step.login and len(words) > 1:
            step.name = f"fill {' '.join(words[1:])} form"
        if not step.final and not step.login:  # one link followed: "open new invoice"
            clicks = [a for a in step.actions if a.target is not None]
            if (
                len(clicks) == 1
                and clicks[0].target.kind == "link"
                and clicks[0].navigation is not None
            ):
                text = identifier(clicks[0].target.hint, "page").replace("_", " ")
                step.name = text if text.startswith("open ") else f"open {text}"
    return [s for s in steps if s.actions]
