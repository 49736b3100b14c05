// #/agents : every registered agent with its resources used/total.

import { h, withQuery } from '../dom.js';
import { VirtualTable } from '../vtable.js';
import { fmtCpus, fmtMB, fmtTime } from '../format.js';

export const needsState = true;

const usage = (used, total, f) => `${f(used)} / ${f(total)}`;
const saved = { q: '' };

const COLUMNS = [
  { title: 'Hostname', width: 'minmax(8em, 1.5fr)', text: (a) => a.hostname,
    href: (a) => withQuery('#/tasks', { agent: a.id }), tip: (a) => `Tasks on ${a.hostname}` },
  { title: 'ID', width: 'minmax(8em, 2fr)', text: (a) => a.id, cls: () => 'mono' },
  { title: 'Address', width: 'minmax(8em, 1fr)', text: (a) => a.address, cls: () => 'mono' },
  { title: 'Active', width: '4.5em', text: (a) => (a.active ? 'yes' : 'no'), cls: (a) => (a.active ? '' : 'warn') },
  { title: 'CPUs used / total', width: '10em', text: (a) => usage(a.used.cpus, a.resources.cpus, fmtCpus), cls: () => 'num' },
  { title: 'Mem used / total', width: '12em', text: (a) => usage(a.used.mem, a.resources.mem, fmtMB), cls: () => 'num' },
  { title: 'Disk used / total', width: '12em', text: (a) => usage(a.used.disk, a.resources.disk, fmtMB), cls: () => 'num' },
  { title: 'Registered', width: '12.5em', text: (a) => fmtTime(a.registered) },
  { title: 'Version', width: '6em', text: (a) => a.version },
];

export function mount(root, app) {
  const text = h('input', { type: 'search', placeholder: 'Filter: hostname, id, address', value: saved.q,
    'aria-label': 'Filter agents' });
  const shown = h('span', { class: 'shown' });
  const table = new VirtualTable({ columns: COLUMNS, empty: 'No agent.', rowAttrs: (a) => ({ 'data-agent-id': a.id }) });
  root.append(h('div', { class: 'toolbar' }, h('h1', null, 'Agents'), text, shown), table.el);
  root.classList.add('fill');
  let last = null;
  text.addEventListener('input', () => {
    saved.q = text.value;
    last = null;
    update();
  });

  function update() {
    const st = app.store.state;
    if (!st || st === last) return;
    last = st;
    const q = saved.q.trim().toLowerCase();
    const rows = st.agentList.filter((a) => !q || a.hay.includes(q));
    rows.sort((a, b) => (a.hostname < b.hostname ? -1 : a.hostname > b.hostname ? 1 : a.id < b.id ? -1 : 1));
    shown.textContent = `${rows.length} of ${st.agentList.length} agents`;
    table.setRows(rows);
  }
  update();
  return { update, unmount: () => { table.destroy(); root.classList.remove('fill'); } };
}
