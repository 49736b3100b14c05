// A windowed table: only the rows in (and just around) the scrolled viewport
// exist in the DOM, so 10,000 rows cost what 40 do. Rows are keyed: on
// setRows() a visible row whose record is the same object as before is not
// touched (at most moved), one whose record changed has only its changed
// cells rewritten.
//
// columns: [{title, width (CSS grid track), text(rec) -> string,
//            href?(rec) -> string, cls?(rec) -> string, tip?(rec) (hover text), sortKey?}]

import { h } from './dom.js';

const OVERSCAN = 8;


export class VirtualTable {
  // Rows (re)written since the page loaded, all tables together (for
  // tests/webui/large_state.mjs).
  static fills = 0;

  constructor({ columns, rowHeight = 28, empty = 'Nothing to show.', rowAttrs, onSort }) {
    this.columns = columns;
    this.rowHeight = rowHeight;
    this.rowAttrs = rowAttrs;
    this.rows = [];
    this.live = new Map(); // key -> row element now in the DOM
    this.spare = [];
    this.raf = 0;
    this.el = h('div', { class: 'vt' });
    this.el.style.setProperty('--vt-cols', columns.map((c) => c.width || '1fr').join(' '));
    this.el.style.setProperty('--vt-row', rowHeight + 'px');
    this.headCells = columns.map((c, i) => h('div', {
      class: 'vt-cell' + (onSort && c.sortKey ? ' sortable' : ''),
      title: onSort && c.sortKey ? 'Sort by ' + c.title : null,
      onclick: onSort && c.sortKey ? () => onSort(i) : null,
    }, c.title));
    this.head = h('div', { class: 'vt-row vt-head', role: 'row' }, this.headCells);
    this.spacer = h('div', { class: 'vt-spacer' });
    this.body = h('div', { class: 'vt-body' }, this.spacer);
    this.emptyEl = h('div', { class: 'vt-empty', hidden: true }, empty);
    this.el.append(this.head, this.body, this.emptyEl);
    this.onScroll = () => this.schedule();
    this.body.addEventListener('scroll', this.onScroll, { passive: true });
    window.addEventListener('resize', this.onScroll);
  }

  destroy() {
    window.removeEventListener('resize', this.onScroll);
    if (this.raf) cancelAnimationFrame(this.raf);
  }

  // Marks the sorted column in the header: dir is 1, -1 or 0.
  markSort(index, dir) {
    this.headCells.forEach((c, i) => {
      c.classList.toggle('asc', i === index && dir > 0);
      c.classList.toggle('desc', i === index && dir < 0);
    });
  }

  setRows(rows) {
    this.rows = rows;
    this.spacer.style.height = rows.length * this.rowHeight + 'px';
    this.emptyEl.hidden = rows.length > 0;
    this.render();
  }

  schedule() {
    if (!this.raf) {
      this.raf = requestAnimationFrame(() => {
        this.raf = 0;
        this.render();
      });
    }
  }

  render() {
    const rh = this.rowHeight;
    const top = this.body.scrollTop;
    const height = this.body.clientHeight || window.innerHeight;
    const first = Math.max(0, Math.floor(top / rh) - OVERSCAN);
    const last = Math.min(this.rows.length, Math.ceil((top + height) / rh) + OVERSCAN);
    // Rows that left the window first, so that their elements serve the new ones.
    const wanted = new Set();
    for (let i = first; i < last; i++) wanted.add(this.rows[i].key);
    for (const [key, el] of this.live) {
      if (wanted.has(key)) continue;
      el.remove();
      el.rec = null;
      this.spare.push(el);
      this.live.delete(key);
    }
    const next = new Map();
    const added = [];
    for (let i = first; i < last; i++) {
      const rec = this.rows[i];
      let el = this.live.get(rec.key);
      if (!el) {
        el = this.spare.pop() || this.makeRow();
        added.push(el);
      }
      if (el.rec !== rec) this.fill(el, rec);
      const y = i * rh;
      if (el.y !== y) {
        el.style.transform = `translateY(${y}px)`;
        el.y = y;
      }
      next.set(rec.key, el);
    }
    if (added.length) this.spacer.append(...added);
    this.live = next;
  }

  makeRow() {
    const el = h('div', { class: 'vt-row', role: 'row' });
    el.cells = this.columns.map((c) => {
      const cell = h(c.href ? 'a' : 'div', { class: 'vt-cell' });
      el.append(cell);
      return cell;
    });
    return el;
  }

  fill(el, rec) {
    VirtualTable.fills++;
    el.rec = rec;
    if (this.rowAttrs) {
      for (const [k, v] of Object.entries(this.rowAttrs(rec))) {
        if (el.getAttribute(k) !== v) el.setAttribute(k, v);
      }
    }
    this.columns.forEach((c, i) => {
      const cell = el.cells[i];
      const text = String(c.text(rec) ?? '');
      if (cell.textContent !== text) cell.textContent = text;
      const cls = 'vt-cell' + (c.cls ? ' ' + c.cls(rec) : '');
      if (cell.className !== cls) cell.className = cls;
      if (c.href) {
        const href = c.href(rec);
        if (cell.getAttribute('href') !== href) cell.setAttribute('href', href);
      }
      const title = c.tip ? c.tip(rec) : text;
      if (cell.title !== title) cell.title = title;
    });
  }
}
