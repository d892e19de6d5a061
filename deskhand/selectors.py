"""The selector repository: named elements with ranked alternative selectors.

A repository is a YAML file ``selectors/<app>.yaml``, grouped by page::

    invoice_form:
      invoice_number:
        frame: content                 # optional: iframe name (or a list, outermost first)
        candidates: ["#invoice_number", "[name=invoice_number]", "label=Invoice number:"]
      save_button: ["#save-button", 'role=button[name="Save"]']   # short form
      results:                         # a list: every match is a row (``page.rows``)
        candidates: ["#results tr.result"]
        cells: {vendor: [".vendor", "td:nth-child(2)"], amount: ".amount"}   # CSS in a row
        next: results_next             # the element that shows the next page of rows
      terms_group: {candidates: ["input[name=terms]"], many: true}   # a list, no cells

Bots refer to elements by name (``page["invoice_number"]``); names are unique across the
file's pages. Candidates are Playwright selectors, plus ``label=TEXT`` (the form field whose
label reads exactly TEXT). They are tried in rank order; the first one that matches exactly
one element wins. When a later candidate wins, the run proposes a new ranking in
``selectors/<app>.proposed.yaml`` (see :func:`write_proposal`) and never edits the
repository itself. An element may carry a ``note`` (ignored when resolving).

A candidate may hold placeholders, ``{n}``, filled by ``page.element("line_amount", n=2)``;
a value is escaped for the quoted CSS string it usually lands in (quotes and backslashes),
and taken as it is after ``label=`` / ``text=`` (whose text Playwright quotes itself).

The repository is data, never Python: ``selectors`` is also a standard-library module name,
so the folder must never become a package.
"""

from __future__ import annotations

import json
import os
import re
import string
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from .errors import ConfigError

PROPOSAL_HEADER = """\
# Healing proposal for selectors/{name}.yaml, written by deskhand runs: {runs}.
# A first-choice selector stopped matching; a fallback found the element. Each element
# below lists its selectors re-ranked: those that matched exactly one element first.
# Review it, copy what you accept into selectors/{name}.yaml, then delete this file.
# deskhand never rewrites the repository by itself.
"""
_write_lock = threading.Lock()


@dataclass(frozen=True)
class ElementSpec:
    """One named element: where it lives and its ranked selectors."""

    name: str
    page: str
    candidates: tuple[str, ...]
    frames: tuple[str, ...] = ()
    cells: tuple[tuple[str, tuple[str, ...]], ...] = ()  # a list's named cells (CSS in a row)
    next: str | None = None  # a list's "next page" element
    many: bool = False  # a list: every match counts (rows, a radio group)

    def placeholders(self) -> list[str]:
        """The names of the placeholders (``{n}``) in the candidates, in order."""
        found: list[str] = []
        for candidate in self.candidates:
            for _, field_name, _, _ in string.Formatter().parse(candidate):
                if field_name and field_name not in found:
                    found.append(field_name)
        return found

    def with_values(self, params: dict[str, Any]) -> ElementSpec:
        """This element with its placeholders filled in (values escaped, see the module)."""
        missing = [p for p in self.placeholders() if p not in params]
        if missing:
            wanted = ", ".join(f"{p}=..." for p in missing)
            raise ConfigError(f"element '{self.name}' needs values for its selectors: {wanted}")
        return _replace_candidates(self, tuple(_fill(c, params) for c in self.candidates))


@dataclass
class SelectorRepository:
    """All named elements of one application."""

    name: str
    elements: dict[str, ElementSpec] = field(default_factory=dict)
    path: Path | None = None

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

    @property
    def pages(self) -> dict[str, list[ElementSpec]]:
        """Elements grouped by page, in file order."""
        grouped: dict[str, list[ElementSpec]] = {}
        for spec in self.elements.values():
            grouped.setdefault(spec.page, []).append(spec)
        return grouped

    @property
    def proposal_path(self) -> Path:
        """Where runs write their healing proposals: ``selectors/<app>.proposed.yaml``."""
        folder = self.path.parent if self.path else Path("selectors")
        return folder / f"{self.name}.proposed.yaml"

    @classmethod
    def load(cls, path: Path) -> SelectorRepository:
        """Read a repository file; any shape error is a ConfigError naming the element."""
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"selector repository {path} not found: create it or fix the name")
        data = _read_yaml(path)
        repo = cls(path.name.split(".")[0], path=path)
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
        extra: dict[str, Any] = {}
        if isinstance(spec, str):
            candidates: object = [spec]
        elif isinstance(spec, list):
            candidates = spec
        elif isinstance(spec, dict):
            unknown = set(spec) - {"candidates", "frame", "note", "cells", "next", "many"}
            if unknown:
                raise ConfigError(f"{path}: element '{name}' has unknown keys {sorted(unknown)}")
            candidates = spec.get("candidates", [])
            frames = spec.get("frame", ())
            if "cells" in spec:
                extra["cells"] = _cells(path, name, spec["cells"])
            if spec.get("next") is not None:
                extra["next"] = str(spec["next"])
            extra["many"] = bool(spec.get("many") or spec.get("cells") or spec.get("next"))
        else:
            candidates = None
        if not candidates or not all(isinstance(c, str) for c in candidates):
            raise ConfigError(f"{path}: element '{name}' needs a list of selector strings")
        if isinstance(frames, str):
            frames = (frames,)
        self.elements[name] = ElementSpec(name, page, tuple(candidates), tuple(frames), **extra)


def _replace_candidates(spec: ElementSpec, candidates: tuple[str, ...]) -> ElementSpec:
    return replace(spec, candidates=candidates)


def _fill(candidate: str, params: dict[str, Any]) -> str:
    raw = candidate.startswith(("label=", "text="))
    out = []
    for literal, field_name, _spec, _conv in string.Formatter().parse(candidate):
        out.append(literal)
        if field_name is not None:
            value = str(params[field_name])
            out.append(value if raw else re.sub(r"([\\'\"])", r"\\\1", value))
    return "".join(out)


def _cells(path: Path, name: str, cells: object) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if not isinstance(cells, dict):
        raise ConfigError(f"{path}: element '{name}': cells must map cell names to CSS selectors")
    result = []
    for cell, selectors in cells.items():
        selectors = [selectors] if isinstance(selectors, str) else selectors
        if not selectors or not all(isinstance(c, str) and _is_css(c) for c in selectors):
            raise ConfigError(
                f"{path}: element '{name}', cell '{cell}': give a list of CSS selectors "
                "(relative to the row; no text=, label=, role= or >>)"
            )
        result.append((str(cell), tuple(selectors)))
    return tuple(result)


def _is_css(selector: str) -> bool:
    return ">>" not in selector and not re.match(r"^[a-z_:-]+=", selector)


def _read_yaml(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}".splitlines()[0]) from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected pages at the top level")
    return data


# -- selectors as Playwright reads them ---------------------------------------------------
def playwright_selector(candidate: str) -> str:
    """The Playwright selector for a repository candidate (``label=TEXT`` is deskhand's)."""
    if candidate.startswith("label="):
        return "internal:label=" + json.dumps(candidate[len("label=") :]) + "s"
    return candidate


def frame_css(frame: str) -> str:
    """CSS for an iframe given by name (``content``; an iframe without a name goes by its id,
    as Playwright's frame names do) or by a CSS selector (``iframe[src="/nav"]``)."""
    for tag in ("iframe", "frame"):
        if frame.startswith(tag) and frame[len(tag) : len(tag) + 1] in ("#", "[", ".", ":"):
            return frame
    if frame[:1] in ("#", "["):
        return frame
    by_name = f"iframe[name='{frame}'], frame[name='{frame}']"
    return by_name + f", iframe[id='{frame}']:not([name]), frame[id='{frame}']:not([name])"


# -- writing repositories and proposals ---------------------------------------------------
def element_entry(
    candidates: list[str] | tuple[str, ...], frames: tuple[str, ...] = (), note: str = ""
) -> dict[str, Any] | list[str]:
    """One element as the YAML file writes it (the short list form when it can)."""
    if not frames and not note:
        return list(candidates)
    entry: dict[str, Any] = {}
    if note:
        entry["note"] = note
    if frames:
        entry["frame"] = frames[0] if len(frames) == 1 else list(frames)
    entry["candidates"] = list(candidates)
    return entry


def dump_pages(pages: dict[str, dict[str, Any]], header: str = "") -> str:
    """YAML text of ``{page: {element: entry}}``, pages and elements in the given order."""
    body = yaml.safe_dump(
        pages, sort_keys=False, allow_unicode=True, default_flow_style=False, width=4096
    )
    return header + body


def proposed_ranking(candidates: tuple[str, ...], matches: list[int]) -> list[str]:
    """The candidates that match exactly one element first, the others after; each group
    keeps its order."""
    good = [c for c, n in zip(candidates, matches) if n == 1]
    return good + [c for c, n in zip(candidates, matches) if n != 1]


def write_proposal(
    repo: SelectorRepository, spec: ElementSpec, ranking: list[str], note: str, run: str
) -> Path:
    """Add (or replace) ``spec``'s new ranking in ``selectors/<app>.proposed.yaml``.

    ``spec`` is the element as the repository has it (placeholders such as ``{n}`` intact);
    proposals from earlier runs for other elements are kept. Returns the file's path.
    """
    path = repo.proposal_path
    with _write_lock:
        pages: dict[str, dict[str, Any]] = {}
        runs: list[str] = []
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            first = text.splitlines()[0] if text else ""
            if ": " in first and first.startswith("# Healing proposal"):
                runs = [r.strip() for r in first.split(": ", 1)[1].rstrip(".").split(",")]
            pages = _read_yaml(path)
        pages.setdefault(spec.page, {})[spec.name] = element_entry(ranking, spec.frames, note)
        if run not in runs:
            runs.append(run)
        header = PROPOSAL_HEADER.format(name=repo.name, runs=", ".join(r for r in runs if r))
        partial = path.with_name(f".{path.name}.{os.getpid()}")
        partial.write_text(dump_pages(pages, header), encoding="utf-8")
        os.replace(partial, path)  # a reader never sees half a file
    return path


# -- checking a repository against a live page --------------------------------------------
@dataclass
class ElementCheck:
    """How one element's selectors fare on a live page."""

    element: str
    page: str
    status: str  # ok | fallback | ambiguous | not found | not on this page | not checked
    matches: list[int] = field(default_factory=list)  # per candidate
    winner: str | None = None


def check_page(repo: SelectorRepository, page: Any) -> list[ElementCheck]:
    """Count each candidate's matches on the Playwright ``page`` (in the element's frame).

    A page group of which no element is found at all is ``not on this page``, as is an
    element whose iframe the page does not have. Elements with placeholders (``{n}``) are
    ``not checked``: their selectors need a bot's values.
    """
    results: list[ElementCheck] = []
    for specs in repo.pages.values():
        group = [_check_element(page, spec) for spec in specs]
        if all(r.status in ("not found", "not on this page", "not checked") for r in group):
            for r in group:
                if r.status == "not found":
                    r.status = "not on this page"
        results.extend(group)
    return results


def _check_element(page: Any, spec: ElementSpec) -> ElementCheck:
    result = ElementCheck(spec.name, spec.page, "not found")
    if any("{" in c for c in spec.candidates):
        result.status = "not checked"
        return result
    root = page
    for frame in spec.frames:
        if page.locator(frame_css(frame)).count() == 0 and root is page:
            result.status = "not on this page"
            return result
        root = root.frame_locator(frame_css(frame))
    try:
        result.matches = [root.locator(playwright_selector(c)).count() for c in spec.candidates]
    except Exception:  # a frame without a document yet, a selector Playwright rejects
        result.matches = [0] * len(spec.candidates)
    if spec.many and any(result.matches):
        index = next(i for i, n in enumerate(result.matches) if n)
        result.winner = spec.candidates[index]
        result.status = "ok" if index == 0 else "fallback"
    elif 1 in result.matches:
        index = result.matches.index(1)
        result.winner = spec.candidates[index]
        result.status = "ok" if index == 0 else "fallback"
    elif any(n > 1 for n in result.matches):
        result.status = "ambiguous"
    return result


def format_checks(results: list[ElementCheck], repo: SelectorRepository) -> list[str]:
    """Readable lines, one per element, grouped by page; a page not shown is one line."""
    lines: list[str] = []
    pages: dict[str, list[ElementCheck]] = {}
    for r in results:
        pages.setdefault(r.page, []).append(r)
    for page, checks in pages.items():
        if all(r.status == "not on this page" for r in checks):
            lines.append(f"{page}: not on this page ({len(checks)} elements)")
            continue
        lines.append(f"{page}:")
        for r in checks:
            spec = repo[r.element]
            detail = ""
            if r.status == "ok":
                detail = r.winner or ""
            elif r.status == "fallback":
                first = f"'{spec.candidates[0]}' matches {r.matches[0]}"
                detail = f"{r.winner}  (first choice {first})"
            elif r.status in ("ambiguous", "not found"):
                tried = zip(spec.candidates, r.matches)
                detail = ", ".join(f"'{c}' matches {n}" for c, n in tried)
            lines.append(f"  {r.status:17} {r.element:28} {detail}".rstrip())
    return lines
