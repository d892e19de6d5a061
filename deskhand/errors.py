"""The errors a bot raises and the runner acts on.

``BusinessError``: the data is wrong or unsure -> the item goes to review, never retried.
``ApplicationError``: a system failed -> the step/item is retried with back-off.
``ConfigError``: the user's set-up is wrong -> the command exits 2 with one line.
"""


class DeskhandError(Exception):
    """Root of every deskhand error."""


class BusinessError(DeskhandError):
    """The data is wrong or unsure: send the item to review; never retry, never key."""


class ApplicationError(DeskhandError):
    """A system (browser, target application, OCR engine) failed: retry with back-off."""


class ConfigError(DeskhandError):
    """The user's set-up is wrong: one line that says what to fix."""


class SelectorNotFound(ApplicationError):
    """A named element could not be found on the page."""


class Stopped(DeskhandError):
    """The run was asked to stop (SIGTERM): the current step finished, the item goes back."""


class DocumentError(BusinessError):
    """A document cannot be read (corrupt, empty, encrypted, not a document)."""
