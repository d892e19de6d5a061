"""The bundled legacy web app: an accounts-payable intranet from 2005, the bots' demo target."""

from demo.legacy_app.app import create_app, serve

__all__ = ["create_app", "serve"]
