"""``page.fill_form({...})``: many fields set in one round trip per frame.

The browser-side script resolves each field as Playwright would for the repository's two
plain kinds of candidate, CSS and ``label=TEXT`` (ranked, the first that matches exactly one
element wins, the run's cached winner first), sets it the way a person's typing ends (the
value, then ``input`` and ``change`` events), and reads every field back in the same trip.
A field the script cannot resolve (not there yet, or only a Playwright selector such as
``text=`` or ``role=`` would find it) is filled through its Element instead, with
Playwright's auto-waiting; a fallback winner is healed as any element is.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from ..errors import ApplicationError
from .protocols import PageHost

if TYPE_CHECKING:
    from .element import Element

# The fields go in, and the results come back, as one JSON string each: Playwright checks
# and converts a nested argument value by value, which cost more than the fill itself.
_SCRIPT = """(json) => {
  const fields = JSON.parse(json);
  const norm = s => (s || '').replace(/\\s+/g, ' ').trim();
  const find = sel => {
    if (sel.startsWith('label=')) {
      const text = sel.slice(6), found = new Set();
      for (const l of document.querySelectorAll('label'))
        if (norm(l.textContent) === text && l.control) found.add(l.control);
      for (const e of document.querySelectorAll('[aria-label]'))
        if (norm(e.getAttribute('aria-label')) === text) found.add(e);
      return [...found];
    }
    if (/^[a-z_-]+=/i.test(sel) || sel.includes('>>')) return null;
    try { return [...document.querySelectorAll(sel)]; } catch (e) { return null; }
  };
  const box = el => el.type === 'checkbox' || el.type === 'radio';
  const read = el => box(el) ? String(el.checked) : el.value;
  const set = (el, v) => {
    if (el.disabled || el.readOnly) return 'is not editable';
    if (el.tagName === 'SELECT') {
      const opts = [...el.options];
      const o = opts.find(o => o.value === v) || opts.find(o => norm(o.text) === v);
      if (!o) return 'has no option ' + JSON.stringify(v);
      el.value = o.value;
    } else if (el.type === 'checkbox' || el.type === 'radio') {
      el.checked = v === 'true';
    } else {
      el.focus();
      const proto = el.tagName === 'TEXTAREA' ? HTMLTextAreaElement : HTMLInputElement;
      Object.getOwnPropertyDescriptor(proto.prototype, 'value').set.call(el, v);
    }
    el.dispatchEvent(new Event('input', {bubbles: true}));
    el.dispatchEvent(new Event('change', {bubbles: true}));
    return null;
  };
  const found = fields.map(f => {
    const order = f.cached === null ? f.candidates.map((_, i) => i) : [f.cached];
    const counts = [];
    let hit = null;
    for (const i of order) {
      const els = find(f.candidates[i]);
      if (els === null) return {unresolved: true};
      counts.push(els.length);
      if (els.length === 1 && hit === null) hit = {el: els[0], index: i, counts};
      if (hit !== null && hit.index === 0) break;
    }
    return hit === null ? {unresolved: true} : hit;
  });
  const out = found.map((r, k) => r.unresolved ? r : {index: r.index, counts: r.counts,
                                                     error: set(r.el, fields[k].value)});
  found.forEach((r, k) => { if (!r.unresolved) out[k].read = read(r.el); });
  if (document.activeElement && document.activeElement.blur) document.activeElement.blur();
  return JSON.stringify(out);
}"""


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def fill_form(page: PageHost, values: dict[Any, Any]) -> dict[Any, str]:
    """Fill ``values`` on ``page``: element name (or an Element, for one with placeholders:
    ``page.element("line_amount", n=2)``) -> value; a bool ticks a checkbox."""
    from .element import Element

    groups: dict[tuple[str, ...], list[tuple[Any, Element]]] = {}
    for key in values:
        element = key if isinstance(key, Element) else page.element(key)
        groups.setdefault(element.spec.frames, []).append((key, element))
    read: dict[Any, str] = {}
    for group in groups.values():
        for key, element in group:
            element._act("fill", value=_text(values[key]), batch=True)
        fields = [
            {
                "candidates": list(e.spec.candidates),
                "cached": page._resolved.get(e.name),
                "value": _text(values[key]),
            }
            for key, e in group
        ]
        root = group[0][1]._root()
        if root is page.raw:
            answer = page.raw.evaluate(_SCRIPT, json.dumps(fields))
        else:  # in a frame: the script runs on the frame's document (one round trip)
            script = f"(_, fields) => ({_SCRIPT})(fields)"
            answer = root.locator(":root").evaluate_all(script, json.dumps(fields))
        results = json.loads(answer)
        for (key, element), result in zip(group, results):
            if result.get("unresolved"):
                read[key] = _one_by_one(element, values[key])
                continue
            if result["error"]:
                page.keep_evidence(element.name)
                raise ApplicationError(f"field '{element.name}' {result['error']}")
            index = result["index"]
            if element.name not in page._resolved:
                if index > 0:
                    element._heal(index, result["counts"])
                page._resolved[element.name] = index
            read[key] = result["read"]
    return {key: read[key] for key in values}


def _one_by_one(element: Element, value: Any) -> str:
    """A field the script could not resolve: through Playwright, which waits for it."""
    kind = element._do(lambda loc: loc.evaluate("e => e.tagName === 'SELECT' ? 'select' : e.type"))
    if kind == "select":
        text = _text(value)
        labels = {o.label: o.value for o in element.options()}
        element.select(value=labels.get(text, text))
    elif kind in ("checkbox", "radio"):
        element.check(bool(value) and value != "false")
    else:
        element.fill(value)
    return element.value() if kind not in ("checkbox", "radio") else _text(element.is_checked())
