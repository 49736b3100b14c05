// #/ : cluster resources used/total (numbers and a chart of the last
// minutes from /metrics/snapshot) and the counts of agents, frameworks and
// running tasks.

import { h } from '../dom.js';
import { drawUsage } from '../chart.js';
import { fmtCpus, fmtMB, fmtPercent } from '../format.js';

const RESOURCES = [
  { name: 'cpus', title: 'CPUs', format: fmtCpus },
  { name: 'mem', title: 'Memory', format: fmtMB },
  { name: 'disk', title: 'Disk', format: fmtMB },
];

const COUNTS = [
  ['master/slaves_active', 'Agents active'],
  ['master/frameworks_active', 'Frameworks active'],
  ['master/tasks_running', 'Tasks running'],
];

export const needsState = false;

export function mount(root, app) {
  const cards = RESOURCES.map((r) => {
    const value = h('div', { class: 'big' }, '—');
    const sub = h('div', { class: 'sub' }, '');
    const canvas = h('canvas', { class: 'chart', 'aria-label': `${r.title} used and total` });
    const el = h('section', { class: 'card', id: `usage-${r.name}` },
      h('h2', null, r.title), value, sub, canvas,
      h('div', { class: 'legend' }, h('span', { class: 'key used' }), 'used ',
        h('span', { class: 'key total' }), 'total, last 5 minutes'));
    return { ...r, value, sub, canvas, el };
  });
  const counts = COUNTS.map(([key, title]) => {
    const v = h('div', { class: 'big' }, '—');
    return { key, v, el: h('section', { class: 'card small' }, h('h2', null, title), v) };
  });
  root.append(h('h1', null, 'Cluster'),
    h('div', { class: 'cards' }, counts.map((c) => c.el)),
    h('div', { class: 'cards charts' }, cards.map((c) => c.el)));

  function update() {
    const m = app.store.metrics;
    for (const c of counts) {
      const v = m && m[c.key];
      c.v.textContent = v === undefined ? '—' : String(Math.round(v));
    }
    for (const c of cards) {
      const used = m && m[`master/${c.name}_used`];
      const total = m && m[`master/${c.name}_total`];
      if (used === undefined || total === undefined) {
        c.value.textContent = '—';
        c.sub.textContent = m ? `master/${c.name}_used or _total not in /metrics/snapshot` : '';
      } else {
        c.value.textContent = `${c.format(used)} / ${c.format(total)}`;
        c.sub.textContent = `${fmtPercent(used, total) || '0%'} used`;
      }
      drawUsage(c.canvas, app.store.history, {
        used: `master/${c.name}_used`, total: `master/${c.name}_total`,
        windowMs: app.historyMs, format: c.format,
      });
    }
  }
  const onResize = () => update();
  window.addEventListener('resize', onResize);
  update();
  return { update, unmount: () => window.removeEventListener('resize', onResize) };
}
