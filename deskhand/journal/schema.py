"""The JSON Schema of ``steps.jsonl``, generated from the event dataclasses.

``python -m deskhand.journal.schema > docs/journal.schema.json`` writes it; a test checks
that the file in the docs is what the dataclasses give today.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import types
import typing
from enum import Enum
from typing import Any

from . import events as ev

__all__ = ["journal_schema", "main"]

_REQUIRED = ["ts", "event", "run_id", "bot"]  # every line has them
_SCALARS = {str: "string", int: "integer", float: "number", bool: "boolean"}


def journal_schema() -> dict[str, Any]:
    """The schema of one line of ``steps.jsonl``: one of the event kinds, by ``event``."""
    kinds = {kind: _event(cls) for kind, cls in sorted(ev.EVENTS.items())}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://github.com/deskhand/deskhand/docs/journal.schema.json",
        "title": "deskhand run journal line (steps.jsonl)",
        "description": (
            f"One event of a run, one JSON object a line. Schema version {ev.SCHEMA_VERSION} "
            "(the line's 'v'; a line without 'v' is version 0, read the same way). Readers "
            "keep fields and kinds they do not know; a bot's own ctx.emit kinds are allowed."
        ),
        "type": "object",
        "required": _REQUIRED,
        "properties": {"event": {"type": "string"}},
        "oneOf": [
            *({"$ref": f"#/$defs/{kind}"} for kind in kinds),
            {
                "description": "a kind not listed here (a bot's own ctx.emit)",
                "properties": {"event": {"not": {"enum": sorted(kinds)}}},
            },
        ],
        "$defs": {**kinds, **_shared()},
    }


def _event(cls: type[ev.Event]) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    props: dict[str, Any] = {"event": {"const": cls.EVENT}}
    for f in dataclasses.fields(cls):
        if f.name == "extra":
            continue
        name = ev.LINE_KEYS.get(f.name, f.name)
        props[name] = _type(hints[f.name])
    props["v"] = {"type": "integer", "minimum": 0, "description": "schema version"}
    props["ts"] = {"type": "string", "format": "date-time"}
    doc = (cls.__doc__ or "").strip()
    out: dict[str, Any] = {"type": "object", "properties": props, "required": _REQUIRED}
    if doc and not doc.startswith(cls.__name__ + "("):  # dataclass's generated signature
        out["description"] = " ".join(doc.split())
    return out


def _type(hint: Any) -> dict[str, Any]:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        options = [_type(a) for a in args if a is not type(None)]
        one = options[0] if len(options) == 1 else {"anyOf": options}
        return {"anyOf": [one, {"type": "null"}]} if type(None) in args else one
    if hint is Any:
        return {}
    if isinstance(hint, type) and issubclass(hint, Enum):
        return {"$ref": f"#/$defs/{hint.__name__}"}
    if dataclasses.is_dataclass(hint):
        return {"$ref": f"#/$defs/{hint.__name__}"}
    if hint in _SCALARS:
        return {"type": _SCALARS[hint]}
    if origin is list:
        return {"type": "array", "items": _type(args[0]) if args else {}}
    if origin is dict:
        return {"type": "object", "additionalProperties": _type(args[1]) if args else {}}
    raise TypeError(f"no JSON Schema for {hint!r}: add it to deskhand.journal.schema")


def _shared() -> dict[str, Any]:
    from ..status import Status, StepStatus

    shared: dict[str, Any] = {
        "Status": {"type": "string", "enum": [s.value for s in Status]},
        "StepStatus": {"type": "string", "enum": [s.value for s in StepStatus]},
    }
    for cls in (ev.ErrorInfo, ev.Candidate):
        hints = typing.get_type_hints(cls)
        names = [f.name for f in dataclasses.fields(cls)]
        shared[cls.__name__] = {
            "type": "object",
            "properties": {n: _type(hints[n]) for n in names},
            "required": names,
            "description": " ".join((cls.__doc__ or "").split()),
        }
    return shared


def main() -> int:
    """Print the schema (``python -m deskhand.journal.schema``)."""
    sys.stdout.write(json.dumps(journal_schema(), indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
