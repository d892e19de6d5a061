"""The operations console: runs, the queue, bulk actions and a validation station, in a
small server-rendered web application on the queue's own database.

    python run_bot.py console user add alice --role reviewer    # asks for the password twice
    python run_bot.py console                                   # http://127.0.0.1:8780/

Pages: **Runs** (every run folder under logs/, newest first, with its counts, trigger,
report and trace), **Queue** (items by queue and status, searchable; retry, requeue or
cancel a selection or a whole filter after confirming the count), an **item** (its history,
every attempt's steps and evidence, its output), and the **validation station** for items in
``needs_review``: the document's pages with each field's box, the reasons, typed corrections,
the checks run again, approve (the item goes back to the queue with the reviewed values in
``payload["reviewed"]``, which :func:`deskhand.review.apply` puts into the document the bot
reads) or reject with a reason.

Roles: viewer < reviewer (decides on items in review) < operator (bulk actions) < admin
(people). Log-in with a session cookie (HttpOnly, SameSite=Lax), a CSRF token in every form,
failed log-ins rate-limited, a strict Content-Security-Policy, everything escaped.
"""

from .app import create_app

__all__ = ["create_app"]
