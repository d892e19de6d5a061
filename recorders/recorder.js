// deskhand's web recorder: injected into every page, popup and frame before the page's own
// scripts. It reports what the person does to window.__deskhandRecord (a Playwright
// binding): clicks, typing (the field's whole value, coalesced later), choices, Enter, file
// choices, and the answers to JavaScript dialogs. For each element it sends the selectors
// that find it, best first, each checked to match exactly this one element right now and,
// where it names an id or a class, checked against a second rendering of the same address
// (the "twin", fetched once per document): an id or class that changed, or looks generated,
// is never used. At each submit it sends the state of every field of the form (the defaults
// the person left alone too); after each load, the label/value texts the page shows.
// Password values are never sent.
(() => {
  // Once per document. (A popup's first real document reuses the window of its initial
  // about:blank one, so the window cannot be the guard.)
  if (document.__deskhandRecorder) return;
  document.__deskhandRecorder = true;

  const TEXT_TYPES = ['', 'text', 'email', 'tel', 'url', 'number', 'search', 'date', 'datetime-local',
    'month', 'time', 'week', 'password'];
  const BUTTON_TYPES = ['submit', 'button', 'reset', 'image'];
  const TEST_IDS = ['data-testid', 'data-test-id', 'data-test', 'data-qa', 'data-cy'];
  const CLICKABLE = 'a, button, input, select, textarea, label, summary, [role=button], [role=link], ' +
    '[role=tab], [role=menuitem], [role=checkbox], [role=radio], [onclick]';

  const norm = (s) => (s || '').replace(/\s+/g, ' ').trim();
  const quote = (s) => '"' + s.replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '"';

  function send(event) {
    try {
      window.__deskhandRecord(Object.assign({ t: Date.now(), url: location.href, page: pageInfo() }, event));
    } catch (e) { /* the binding is gone: the recording has stopped */ }
  }

  // -- what the page is ------------------------------------------------------------------
  function pageInfo() {
    const heading = document.querySelector('h1, h2');
    let title = heading ? norm(heading.textContent) : '';
    if (!title && document.querySelector('input[type=password]')) title = 'log in';
    if (!title) {
      const parts = location.pathname.split('/').filter((p) => p && !/\d/.test(p));
      title = parts.length ? parts[parts.length - 1] : norm(document.title) || 'start';
    }
    return { title: title.replace(/[.:!]+$/, ''), path: location.pathname };
  }

  // -- the element: kind, name, label ------------------------------------------------------
  function kindOf(el) {
    const tag = el.localName;
    const type = (el.getAttribute('type') || '').toLowerCase();
    if (tag === 'a') return 'link';
    if (tag === 'button' || (tag === 'input' && BUTTON_TYPES.includes(type))) return 'button';
    if (tag === 'select') return 'select';
    if (tag === 'textarea') return 'textbox';
    if (tag === 'input') {
      if (type === 'password') return 'password';
      if (type === 'checkbox' || type === 'radio' || type === 'file') return type;
      if (TEXT_TYPES.includes(type)) return 'textbox';
    }
    const role = el.getAttribute('role');
    return role === 'link' || role === 'button' ? role : 'other';
  }

  function roleOf(el) {
    const explicit = el.getAttribute('role');
    if (explicit) return explicit.split(' ')[0];
    const tag = el.localName;
    const type = (el.getAttribute('type') || '').toLowerCase();
    if (tag === 'a') return el.hasAttribute('href') ? 'link' : null;
    if (tag === 'button') return 'button';
    if (tag === 'textarea') return 'textbox';
    if (tag === 'select') return el.multiple || el.size > 1 ? 'listbox' : 'combobox';
    if (tag !== 'input') return null;
    if (BUTTON_TYPES.includes(type)) return 'button';
    if (type === 'checkbox' || type === 'radio') return type;
    if (type === 'number') return 'spinbutton';
    if (type === 'search') return 'searchbox';
    if (['', 'text', 'email', 'tel', 'url'].includes(type)) return 'textbox';
    return null;
  }

  function labelText(el) {  // what Playwright's label matching reads
    const by = el.getAttribute('aria-labelledby');
    if (by) {
      return norm(by.split(/\s+/).map((id) => (document.getElementById(id) || {}).textContent || '').join(' '));
    }
    if (norm(el.getAttribute('aria-label'))) return norm(el.getAttribute('aria-label'));
    if (el.labels && el.labels.length) {
      return norm(Array.from(el.labels).map((l) => l.textContent).join(' '));
    }
    return '';
  }

  function textOf(el) {
    if (el.localName === 'input') return norm(el.value || el.getAttribute('value'));
    return norm(el.textContent);
  }

  function accessibleName(el) {
    const label = labelText(el);
    if (label) return label;
    const tag = el.localName;
    const type = (el.getAttribute('type') || '').toLowerCase();
    if (tag === 'input' && BUTTON_TYPES.includes(type)) {
      return norm(type === 'image' ? el.alt : el.value) || (type === 'reset' ? 'Reset' : 'Submit');
    }
    if (['a', 'button', 'summary'].includes(tag) || ['button', 'link'].includes(el.getAttribute('role'))) {
      return norm(el.textContent);
    }
    return norm(el.getAttribute('title') || el.getAttribute('placeholder'));
  }

  function textBefore(el) {  // "Name or code: <input>": the text just before the field
    let text = '';
    for (let n = el.previousSibling; n && !text; n = n.previousSibling) {
      if (n.nodeType === 3) text = norm(n.textContent);
      else if (n.nodeType === 1 && !['input', 'select', 'textarea', 'br'].includes(n.localName)) {
        text = norm(n.textContent);
      } else if (n.nodeType === 1) break;
    }
    return text.length <= 40 ? text : '';
  }

  function cellBefore(el) {  // <td>Operator</td><td><input></td>: the cell on its left
    const cell = el.parentElement;
    if (!cell || !['td', 'th'].includes(cell.localName)) return '';
    if (cell.querySelectorAll('input, select, textarea').length !== 1) return '';
    const before = cell.previousElementSibling;
    const text = before && ['td', 'th'].includes(before.localName) ? norm(before.textContent) : '';
    return text.length <= 40 && /[A-Za-z]{2}/.test(text) ? text : '';  // words, not a row's number
  }

  function nameHint(el, kind) {
    if (kind === 'button' || kind === 'link' || kind === 'other') {
      return textOf(el) || labelText(el) || el.getAttribute('title') || el.getAttribute('name') || el.id;
    }
    const testId = TEST_IDS.map((name) => el.getAttribute(name)).find((value) => value);
    return labelText(el) || testId || el.getAttribute('placeholder') || textBefore(el) ||
      cellBefore(el) || el.getAttribute('name') || el.getAttribute('title') || el.id || kind;
  }

  // -- selectors, best first, each unique right now ----------------------------------------
  function count(css) {
    try { return document.querySelectorAll(css).length; } catch (e) { return 0; }
  }

  function visible(el) {
    const style = getComputedStyle(el);
    return el.getClientRects().length > 0 && style.visibility !== 'hidden';
  }

  // -- stability: the twin rendering, and names that look generated --------------------------
  let twin;  // undefined: not fetched yet; null: none to compare with
  function twinDocument() {
    if (twin !== undefined) return twin;
    twin = null;
    if (!/^https?:$/.test(location.protocol)) return twin;
    try {  // synchronous, once per document: the action being recorded waits a moment
      const request = new XMLHttpRequest();
      request.open('GET', location.href, false);
      request.send();
      if (request.status === 200) twin = new DOMParser().parseFromString(request.responseText, 'text/html');
    } catch (e) { /* no second rendering: judge names by their look alone */ }
    return twin;
  }

  function twinOf(el) {  // the element at the same place in the twin, if it is the same kind
    const doc = twinDocument();
    if (!doc) return null;
    let found = null;
    try {
      found = doc.evaluate(xpath(el).slice('xpath='.length), doc, null, XPathResult.FIRST_ORDERED_NODE_TYPE, null).singleNodeValue;
    } catch (e) { return null; }
    if (!found || found.localName !== el.localName) return null;
    for (const attr of ['type', 'name']) {
      if ((found.getAttribute(attr) || '') !== (el.getAttribute(attr) || '')) return null;
    }
    return found;
  }

  function looksGenerated(name) {  // fpbd3ick, x9f2, css-1q2w3e, qzkxwpt: not words
    return name.split(/[-_]+|(?<=[a-z])(?=[A-Z])/).some((token) =>
      (/\d/.test(token) && /[a-z]/i.test(token) && !/^[a-z]+\d{1,2}$/i.test(token)) ||
      /[bcdfghjklmnpqrstvwxz]{5,}/i.test(token) || /^[0-9a-f]{8,}$/i.test(token));
  }

  function stableId(id, el) {
    if (!id || !/^[A-Za-z][\w-]*$/.test(id) || /\d{4,}/.test(id) || looksGenerated(id) ||
      /^(ember|react|ext-|gwt|yui|j_id|ui-id|mui|rc-|__)/i.test(id)) return false;
    const other = el ? twinOf(el) : null;
    return !other || other.id === id;  // the same id on the second rendering, or none to ask
  }

  function stableClasses(el) {
    const other = twinOf(el);
    return Array.from(el.classList).filter((c) => /^[A-Za-z][\w-]*$/.test(c) && !/\d{3,}/.test(c) &&
      !looksGenerated(c) && (!other || other.classList.contains(c)) &&
      !/^(active|hover|focus|selected|open|disabled|ng-|is-|has-)/.test(c));
  }

  function sameInTwin(el, css) {  // a CSS candidate finds this very element on the twin too
    const other = twinOf(el);
    if (!other) return true;  // nothing to compare with (added by a script, or no twin)
    try {
      const found = other.ownerDocument.querySelectorAll(css);
      return found.length === 1 && found[0] === other;
    } catch (e) { return false; }
  }

  function cssPath(el) {
    const classes = stableClasses(el);
    if (classes.length) {
      const byClass = el.localName + '.' + classes.map((c) => CSS.escape(c)).join('.');
      if (count(byClass) === 1) return byClass;
    }
    const steps = [];
    for (let e = el; e && e.nodeType === 1 && e.localName !== 'html' && steps.length < 6; e = e.parentElement) {
      if (e !== el && stableId(e.id, e)) {
        const anchored = '#' + CSS.escape(e.id) + ' > ' + steps.join(' > ');
        return count(anchored) === 1 ? anchored : null;
      }
      const same = e.parentElement ? Array.from(e.parentElement.children).filter((c) => c.localName === e.localName) : [];
      steps.unshift(e.localName + (same.length > 1 ? ':nth-of-type(' + (same.indexOf(e) + 1) + ')' : ''));
      if (steps.length >= 2 && count(steps.join(' > ')) === 1) return steps.join(' > ');
    }
    return null;
  }

  function xpath(el) {
    const parts = [];
    for (let e = el; e && e.nodeType === 1; e = e.parentElement) {
      const same = e.parentElement ? Array.from(e.parentElement.children).filter((c) => c.localName === e.localName) : [e];
      parts.unshift(e.localName + (same.length > 1 ? '[' + (same.indexOf(e) + 1) + ']' : ''));
    }
    return 'xpath=/' + parts.join('/');
  }

  const INPUT_KINDS = ['textbox', 'password', 'select', 'checkbox', 'radio', 'file'];

  function candidates(el, kind) {
    const tag = el.localName;
    const found = [];
    const add = (selector, unique) => { if (selector && unique && !found.includes(selector)) found.push(selector); };
    const addCss = (css) => add(css, count(css) === 1 && sameInTwin(el, css));
    const attr = (name, value) => '[' + name + '=' + quote(value) + ']';
    const input = INPUT_KINDS.includes(kind);

    // What a person sees first: a field's role and name, its label; a button's or link's id
    // (when it is stable) before its text, which a re-skin may reword.
    const role = roleOf(el);
    const accName = accessibleName(el);
    const byRole = () => {
      if (!role || !accName || kind === 'password') return;
      const same = Array.from(document.querySelectorAll('*')).filter(
        (e) => roleOf(e) === role && accessibleName(e) === accName && visible(e));
      add('role=' + role + '[name=' + quote(accName) + ']', same.length === 1);
    };
    const label = labelText(el);
    const byLabel = () => {
      if (!label || ['button', 'link'].includes(kind)) return;
      const all = document.querySelectorAll('input, select, textarea, button, [aria-label], [aria-labelledby]');
      add('label=' + label, Array.from(all).filter((e) => labelText(e) === label).length === 1);
    };
    if (input) { byRole(); byLabel(); }
    if (stableId(el.id, el)) addCss('#' + CSS.escape(el.id));
    const name = el.getAttribute('name');
    if (name) {
      let byName = tag + attr('name', name);
      if ((kind === 'radio' || kind === 'checkbox') && count(byName) > 1) byName += attr('value', el.value);
      addCss(byName);
    }
    if (!input) { byLabel(); byRole(); }
    const placeholder = el.getAttribute('placeholder');
    if (placeholder) addCss(tag + attr('placeholder', placeholder));
    for (const testId of TEST_IDS) {
      const value = el.getAttribute(testId);
      if (value) addCss(attr(testId, value));
    }
    const text = textOf(el);
    if (['button', 'link', 'other'].includes(kind) && text && text.length <= 50) {
      const same = Array.from(document.querySelectorAll(tag)).filter((e) => textOf(e) === text);
      add(tag + ':text-is(' + quote(text) + ')', same.length === 1);
    }
    const path = cssPath(el);
    if (path) addCss(path);
    add(xpath(el), true);
    return found;
  }

  function fieldsWith(el) {  // the fields submitted with el: its form's (owned, wherever
    // they sit: a <form> begun inside a table is empty), else the form-less fields around it
    if (el.form) return Array.from(el.form.elements);
    return Array.from(document.querySelectorAll('input, select, textarea')).filter((e) => !e.form);
  }

  function isLogin(el) {  // a password and one other field to type in: user name or e-mail
    const fields = fieldsWith(el).filter((e) => e.type !== 'hidden');
    if (!fields.some((e) => kindOf(e) === 'password')) return false;
    return fields.filter((e) => kindOf(e) === 'textbox').length === 1;
  }

  function inModal(el) {  // inside a dialog drawn over the page (not a JavaScript one)
    for (let e = el; e && e.nodeType === 1; e = e.parentElement) {
      if (e.localName === 'dialog' || e.getAttribute('aria-modal') === 'true' ||
          e.getAttribute('role') === 'dialog' || e.getAttribute('role') === 'alertdialog') return true;
      if (e !== el && getComputedStyle(e).position === 'fixed') return true;
    }
    return false;
  }

  function describe(el) {
    const kind = kindOf(el);
    return {
      kind,
      tag: el.localName,
      hint: nameHint(el, kind),
      name: el.getAttribute('name') || '',
      label: labelText(el) || textBefore(el) || cellBefore(el),
      group: kind === 'radio' ? el.getAttribute('name') || '' : '',
      value: kind === 'radio' ? el.value || '' : '',
      candidates: candidates(el, kind),
      login: ['textbox', 'password'].includes(kind) && isLogin(el),
      modal: inModal(el),
    };
  }

  // -- a submitted form: every field's state ---------------------------------------------
  function snapshot(form) {
    const fields = [];
    const groups = {};
    for (const el of Array.from(form.elements)) {
      const kind = kindOf(el);
      if (!INPUT_KINDS.includes(kind) || el.disabled || el.readOnly) continue;
      if (kind === 'radio') {
        const name = el.getAttribute('name') || '';
        if (!groups[name]) {
          groups[name] = { kind, group: name, options: [], value: '', label: '', target: null };
          fields.push(groups[name]);
        }
        const option = { value: el.value, label: labelText(el) || textBefore(el) };
        groups[name].options.push(option);
        if (!groups[name].target) groups[name].target = describe(el);
        if (el.checked) Object.assign(groups[name], { value: option.value, label: option.label });
        if (el.checked !== el.defaultChecked) groups[name].changed = true;
        continue;
      }
      const field = { kind, target: describe(el) };
      if (kind === 'password') field.secret = true;
      else if (kind === 'select') {
        const option = el.options[el.selectedIndex];
        field.value = el.value;
        field.label = option ? norm(option.text) : '';
        field.options = Array.from(el.options).map((o) => ({ value: o.value, label: norm(o.text) }));
        const initial = Array.from(el.options).findIndex((o) => o.defaultSelected);
        field.changed = el.selectedIndex !== Math.max(initial, 0);
      } else if (kind === 'checkbox') {
        field.checked = el.checked;
        field.changed = el.checked !== el.defaultChecked;
      } else if (kind === 'file') field.files = Array.from(el.files).map((f) => f.name);
      else {
        field.value = el.value;
        field.changed = el.value !== el.defaultValue;
      }
      fields.push(field);
    }
    return { action: form.getAttribute('action') || '', method: (form.method || 'get').toLowerCase(), fields };
  }

  // -- what a page shows: label and value, for reading a saved record back ---------------------
  function shown() {
    const cells = [];
    const leaves = document.querySelectorAll('td, dd, span, b, strong, em, p, div, li');
    for (const el of Array.from(leaves)) {
      if (cells.length >= 120) break;
      if (el.children.length || el.closest('form, a, button, script, style')) continue;
      const text = norm(el.textContent);
      if (!text || text.length > 80) continue;
      let cell = el;  // <td><span>AP-1</span></td>: the cell is the td
      while (cell.parentElement && cell.parentElement.children.length === 1 &&
        norm(cell.parentElement.textContent) === text && cell.parentElement.localName !== 'body') cell = cell.parentElement;
      let hint = '';
      const before = cell.previousElementSibling;
      if (cell.localName === 'td' && before && ['td', 'th'].includes(before.localName)) hint = norm(before.textContent);
      else if (cell.localName === 'dd' && before && before.localName === 'dt') hint = norm(before.textContent);
      else hint = textBefore(el);
      if (!hint || hint.length > 40) continue;
      cells.push({ text, hint, target: { kind: 'other', tag: el.localName, hint, candidates: candidates(el, 'other').filter((c) => !c.includes(':text-is(')) } });
    }
    return cells;
  }

  // -- what the person does ------------------------------------------------------------------
  const FIELD_KINDS = ['textbox', 'password', 'select', 'checkbox', 'radio', 'file'];
  let enterIn = null;  // the form of the field where Enter was just pressed

  function implicitSubmit(el, e) {  // the browser clicks the form's button for that Enter
    return e.detail === 0 && enterIn !== null && el.form === enterIn.form && Date.now() - enterIn.t < 1000;
  }

  document.addEventListener('click', (e) => {
    if (!e.isTrusted || !(e.target instanceof Element)) return;
    const el = e.target.closest(CLICKABLE) || e.target;
    if (el.localName === 'label' && el.control) return;  // the field's change event tells
    if (el.localName === 'option' || FIELD_KINDS.includes(kindOf(el)) || implicitSubmit(el, e)) return;
    send({ type: 'click', target: describe(el) });
  }, true);

  document.addEventListener('input', (e) => {
    const el = e.target;
    if (!(el instanceof Element) || !['textbox', 'password'].includes(kindOf(el))) return;
    const secret = kindOf(el) === 'password';
    send({ type: 'fill', target: describe(el), value: secret ? null : el.value, secret });
  }, true);

  document.addEventListener('change', (e) => {
    const el = e.target;
    if (!(el instanceof Element)) return;
    const kind = kindOf(el);
    if (kind === 'select') {
      const option = el.options[el.selectedIndex];
      send({ type: 'select', target: describe(el), value: el.value, label: option ? norm(option.text) : '' });
    } else if (kind === 'checkbox') {
      send({ type: el.checked ? 'check' : 'uncheck', target: describe(el) });
    } else if (kind === 'radio' && el.checked) {
      send({ type: 'check', target: describe(el) });
    } else if (kind === 'file') {
      send({ type: 'upload', target: describe(el), files: Array.from(el.files).map((f) => f.name) });
    } else if (kind === 'textbox' || kind === 'password') {
      send({ type: 'fill', target: describe(el), value: kind === 'password' ? null : el.value, secret: kind === 'password' });
    }
  }, true);

  document.addEventListener('keydown', (e) => {
    const el = e.target;
    if (!e.isTrusted || e.key !== 'Enter' || !(el instanceof Element)) return;
    if (['textbox', 'password'].includes(kindOf(el)) && el.localName !== 'textarea') {
      enterIn = { form: el.form, t: Date.now() };
      send({ type: 'press', key: 'Enter', target: describe(el) });
    }
  }, true);

  document.addEventListener('submit', (e) => {
    if (e.target instanceof HTMLFormElement) send({ type: 'submit', form: snapshot(e.target) });
  }, true);

  const report = () => {
    const cells = shown();
    if (cells.length) send({ type: 'shown', cells });
  };
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', report);
  else report();

  // -- JavaScript dialogs: what the person answered ---------------------------------------
  if (window.__deskhandDialogs) return;
  window.__deskhandDialogs = true;
  const wrap = (kind, original) => function (message) {
    const t = Date.now();  // when it opened: the person may take a while to answer
    const answer = original.apply(window, arguments);
    const event = { type: 'dialog', kind, t, answered: Date.now(), message: message === undefined ? '' : String(message) };
    if (kind === 'alert') send(Object.assign(event, { accepted: true }));
    if (kind === 'confirm') send(Object.assign(event, { accepted: !!answer }));
    if (kind === 'prompt') send(Object.assign(event, { accepted: answer !== null, value: answer }));
    return answer;
  };
  // A script's form.submit() fires no submit event: tell it all the same.
  const submit = HTMLFormElement.prototype.submit;
  HTMLFormElement.prototype.submit = function () {
    send({ type: 'submit', form: snapshot(this) });
    return submit.apply(this, arguments);
  };
  window.alert = wrap('alert', window.alert);
  window.confirm = wrap('confirm', window.confirm);
  window.prompt = wrap('prompt', window.prompt);
})();
