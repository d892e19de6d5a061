"""The selector repository: named elements with ranked alternative selectors.

A repository is a YAML file ``selectors/<app>.yaml``, grouped by page::

    invoice_form:
      invoice_number:
        frame: content                 # optional: iframe name (or a list, outermost first)
        candidates: ["#invoice_number", "[name=invoice_number]"]
      save_button: ["#save-button", "input[type=submit][value=Save]"]   # short form

Bots refer to elements by name (``page["invoice_number"]``); names are unique across the
file's pages. Candidates are tried in rank order; the first one that matches exactly one
element wins. The repository is data, never Python: ``selectors`` is also a standard-library
module name, so the folder must never become a package.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .errors import ConfigError


@dataclass(frozen=True)
class ElementSpec:
    """One named element: where it lives and its ranked selectors."""

    name: str
    page: str
    candidates: tuple[str, ...]
    frames: tuple[str, ...] = ()


@dataclass
class SelectorRepository:
    """All named elements of one application."""

    name: str
    elements: dict[str, ElementSpec] = field(default_factory=dict)

    def __getitem__(self, name: str) -> ElementSpec:
        try:
            return self.elements[name]
        except KeyError:
            known = ", ".join(sorted(self.elements)) or "none"
            raise ConfigError(
                f"no element '{name}' in selectors/{self.name}.yaml (known: {known})"
            ) from None

    def __contains__(self, name: str) -> bool:
        return name in self.elements

    @classmethod
    def load(cls, path: Path) -> SelectorRepository:
        """Read a repository file; any shape error is a ConfigError naming the element."""
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"selector repository {path} not found: create it or fix the name")
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path} is not valid YAML: {exc}".splitlines()[0]) from None
        repo = cls(path.stem)
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: expected pages at the top level")
        for page, elements in data.items():
            if not isinstance(elements, dict):
                raise ConfigError(f"{path}: page '{page}' must map element names to selectors")
            for name, spec in elements.items():
                repo._add(path, str(page), str(name), spec)
        return repo

    def _add(self, path: Path, page: str, name: str, spec: object) -> None:
        if name in self.elements:
            raise ConfigError(f"{path}: element '{name}' is defined twice")
        frames: object = ()
        if isinstance(spec, str):
            candidates: object = [spec]
        elif isinstance(spec, list):
            candidates = spec
        elif isinstance(spec, dict):
            unknown = set(spec) - {"candidates", "frame"}
            if unknown:
                raise ConfigError(f"{path}: element '{name}' has unknown keys {sorted(unknown)}")
            candidates = spec.get("candidates", [])
            frames = spec.get("frame", ())
        else:
            candidates = None
        if not candidates or not all(isinstance(c, str) for c in candidates):
            raise ConfigError(f"{path}: element '{name}' needs a list of selector strings")
        if isinstance(frames, str):
            frames = (frames,)
        self.elements[name] = ElementSpec(name, page, tuple(candidates), tuple(frames))
