"""The bundled legacy desktop program: an accounts-payable invoice entry window in Tk.

``python -m demo.desktop_app --db PATH [--scale 1.25]``. It keeps its records in the same
SQLite schema as the legacy web app (``demo.legacy_app.db``) and checks an invoice with the
same rules (``demo.legacy_app.forms``), so both demo systems agree on what a valid invoice is.
"""
