// deskhand's web recorder: injected into every page, popup and frame before the page's own
// scripts. It reports what the person does to window.__deskhandRecord (a Playwright
// binding): clicks, typing (the field's whole value, coalesced later), choices, Enter, file
// choices, and the answers to JavaScript dialogs. For each element it sends the selectors
// that find it, best first, each checked to match exactly this one element right now.
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

  function nameHint(el, kind) {
    if (kind === 'button' || kind === 'link' || kind === 'other') {
      return textOf(el) || labelText(el) || el.getAttribute('title') || el.getAttribute('name') || el.id;
    }
    const testId = TEST_IDS.map((name) => el.getAttribute(name)).find((value) => value);
    return labelText(el) || testId || el.getAttribute('placeholder') || textBefore(el) ||
      el.getAttribute('name') || el.getAttribute('title') || el.id || kind;
  }

  // -- selectors, best first, each unique right now ----------------------------------------
  function count(css) {
    try { return document.querySelectorAll(css).length; } catch (e) { return 0; }
  }

  function visible(el) {
    const style = getComputedStyle(el);
    return el.getClientRects().length > 0 && style.visibility !== 'hidden';
  }

  function stableId(id) {
    return !!id && /^[A-Za-z][\w-]*$/.test(id) && !/\d{4,}/.test(id) &&
      !/^(ember|react|ext-|gwt|yui|j_id|ui-id|mui|rc-|__)/i.test(id);
  }

  function stableClasses(el) {
    return Array.from(el.classList).filter((c) => /^[A-Za-z][\w-]*$/.test(c) && !/\d{3,}/.test(c) &&
      !/^(active|hover|focus|selected|open|disabled|ng-|is-|has-)/.test(c));
  }

  function cssPath(el) {
    const classes = stableClasses(el);
    if (classes.length) {
      const byClass = el.localName + '.' + classes.map((c) => CSS.escape(c)).join('.');
      if (count(byClass) === 1) return byClass;
    }
    const steps = [];
    for (let e = el; e && e.nodeType === 1 && e.localName !== 'html' && steps.length < 6; e = e.parentElement) {
      if (e !== el && stableId(e.id)) {
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

  function candidates(el, kind) {
    const tag = el.localName;
    const found = [];
    const add = (selector, unique) => { if (selector && unique && !found.includes(selector)) found.push(selector); };
    const attr = (name, value) => '[' + name + '=' + quote(value) + ']';

    if (stableId(el.id)) add('#' + el.id, count('#' + CSS.escape(el.id)) === 1);
    const name = el.getAttribute('name');
    if (name) {
      let byName = tag + attr('name', name);
      if ((kind === 'radio' || kind === 'checkbox') && count(byName) > 1) byName += attr('value', el.value);
      add(byName, count(byName) === 1);
    }
    const label = labelText(el);
    if (label && !['button', 'link'].includes(kind)) {
      const all = document.querySelectorAll('input, select, textarea, button, [aria-label], [aria-labelledby]');
      add('label=' + label, Array.from(all).filter((e) => labelText(e) === label).length === 1);
    }
    const role = roleOf(el);
    const accName = accessibleName(el);
    if (role && accName && kind !== 'password') {
      const same = Array.from(document.querySelectorAll('*')).filter(
        (e) => roleOf(e) === role && accessibleName(e) === accName && visible(e));
      add('role=' + role + '[name=' + quote(accName) + ']', same.length === 1);
    }
    const placeholder = el.getAttribute('placeholder');
    if (placeholder) add(tag + attr('placeholder', placeholder), count(tag + attr('placeholder', placeholder)) === 1);
    for (const testId of TEST_IDS) {
      const value = el.getAttribute(testId);
      if (value) add(attr(testId, value), count(attr(testId, value)) === 1);
    }
    const text = textOf(el);
    if (['button', 'link', 'other'].includes(kind) && text && text.length <= 50) {
      const same = Array.from(document.querySelectorAll(tag)).filter((e) => textOf(e) === text);
      add(tag + ':text-is(' + quote(text) + ')', same.length === 1);
    }
    add(cssPath(el), true);
    add(xpath(el), true);
    return found;
  }

  function isLogin(form) {  // a password and one other field to type in: user name or e-mail
    if (!form || !form.querySelector('input[type=password]')) return false;
    const typed = Array.from(form.querySelectorAll('input, textarea')).filter((e) => kindOf(e) === 'textbox');
    return typed.length === 1;
  }

  function describe(el) {
    const kind = kindOf(el);
    const form = el.form || el.closest('form');
    return {
      kind,
      tag: el.localName,
      hint: nameHint(el, kind),
      group: kind === 'radio' ? el.getAttribute('name') || '' : '',
      value: kind === 'radio' ? el.value || '' : '',
      candidates: candidates(el, kind),
      login: isLogin(form),
    };
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
  window.alert = wrap('alert', window.alert);
  window.confirm = wrap('confirm', window.confirm);
  window.prompt = wrap('prompt', window.prompt);
})();
