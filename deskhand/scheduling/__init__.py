"""Unattended runs: a daemon that starts bots on their schedules, built on ``schedule``.

Declare jobs in ``bots/schedules.toml``::

    [[job]]
    bot = "invoice_entry"            # bots/invoice_entry.py
    every = "15 minutes"             # or "2 hours", "day", "week"
    time_limit = "30m"               # then the run is stopped, and killed if it hangs
    missed = "run_once"              # after a stop: run once on start-up (default: skip)
    settings = { input = "/srv/inbox", target = "http://ap.intranet/" }

    [[job]]
    bot = "invoice_entry"
    days = "weekdays"                # or ["monday", "thursday"]
    at = "07:30"
    timezone = "Europe/Berlin"

    [[job]]
    bot = "invoice_entry"
    queued = 25                      # a queue trigger: when 25 items wait (checked each
    every = "5 minutes"              # 5 minutes), work the queue (source = false)

or in the bot module itself: ``SCHEDULES = [{"every": "1 hour"}]``. Then::

    run_bot.py schedule --list       # each job, its next run, its last run; the daemons
    run_bot.py schedule              # the daemon (SIGTERM or Ctrl-C stops it cleanly)
    run_bot.py schedule --once       # run what is due, wait, exit: for cron and timers

Each run is a child process (``python -m deskhand.scheduling.child``) in its own process
group. Daemons sharing a database (PostgreSQL) start each run once: the job's slot and the
bot's lock are taken in one transaction (state.py). The daemon's heartbeat is a row in
``deskhand_daemons``.
"""

from .daemon import Daemon
from .jobs import Job, load_jobs

__all__ = ["Daemon", "Job", "load_jobs"]
