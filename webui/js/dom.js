// DOM helpers. Every string reaches the DOM as a text node or an attribute
// value (textContent, setAttribute), never through innerHTML, so task names
// and other user input cannot become markup.

// h('a', {href: '#/x', class: 'y', onclick: f}, 'text', child, [more]) -> Element.
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  if (props) {
    for (const [k, v] of Object.entries(props)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k === 'text') el.textContent = v;
      else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : String(c));
  }
}

// A hash link to a view; each part is percent-encoded (ids are user input too).
export function route(...parts) {
  return '#/' + parts.map((p) => encodeURIComponent(p)).join('/');
}

export function withQuery(hash, query) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v) q.set(k, v);
  const s = q.toString();
  return s ? hash + '?' + s : hash;
}

// A <dl> of [label, value] pairs; values may be strings or nodes.
export function definitionList(pairs) {
  return h('dl', { class: 'props' },
    pairs.filter(([, v]) => v !== undefined && v !== null && v !== '')
      .map(([k, v]) => [h('dt', null, k), h('dd', null, v)]));
}

// A small static table (for short lists: statuses, modules).
export function simpleTable(headers, rows, cls) {
  return h('table', { class: cls || 'simple' },
    h('thead', null, h('tr', null, headers.map((t) => h('th', null, t)))),
    h('tbody', null, rows.map((r) => h('tr', null, r.map((c) => h('td', null, c))))));
}
