// #/frameworks : live and completed frameworks with their resources in use.

import { h, withQuery } from '../dom.js';
import { VirtualTable } from '../vtable.js';
import { fmtCpus, fmtMB, fmtTime } from '../format.js';

export const needsState = true;

const saved = { q: '' };

function status(f) {
  if (f.completed) return 'completed';
  if (!f.active) return 'inactive';
  return f.connected ? 'active' : 'disconnected';
}

const COLUMNS = [
  { title: 'Name', width: 'minmax(8em, 1.5fr)', text: (f) => f.name || '(unnamed)',
    href: (f) => withQuery('#/tasks', { framework: f.id }), tip: (f) => `Tasks of ${f.name}` },
  { title: 'ID', width: 'minmax(8em, 2fr)', text: (f) => f.id, cls: () => 'mono' },
  { title: 'Status', width: '7.5em', text: status, cls: (f) => (f.completed ? 'dim' : f.connected ? '' : 'warn') },
  { title: 'User', width: '6em', text: (f) => f.user },
  { title: 'Role', width: '6em', text: (f) => f.role },
  { title: 'Principal', width: '7em', text: (f) => f.principal },
  { title: 'Tasks active / done', width: '11em', text: (f) => `${f.activeTasks} / ${f.doneTasks}`, cls: () => 'num' },
  { title: 'CPUs', width: '4.5em', text: (f) => fmtCpus(f.used.cpus), cls: () => 'num' },
  { title: 'Mem', width: '6em', text: (f) => fmtMB(f.used.mem), cls: () => 'num' },
  { title: 'Registered', width: '12.5em', text: (f) => fmtTime(f.registered) },
];

export function mount(root, app) {
  const text = h('input', { type: 'search', placeholder: 'Filter: name, id, user, role', value: saved.q,
    'aria-label': 'Filter frameworks' });
  const shown = h('span', { class: 'shown' });
  const table = new VirtualTable({ columns: COLUMNS, empty: 'No framework.', rowAttrs: (f) => ({ 'data-framework-id': f.id }) });
  root.append(h('div', { class: 'toolbar' }, h('h1', null, 'Frameworks'), text, shown), table.el);
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
    const rows = st.frameworks.filter((f) => !q || f.hay.includes(q));
    // Live ones first, newest first.
    rows.sort((a, b) => (a.completed - b.completed) || (b.registered - a.registered) || (a.id < b.id ? -1 : 1));
    shown.textContent = `${rows.length} of ${st.frameworks.length} frameworks`;
    table.setRows(rows);
  }
  update();
  return { update, unmount: () => { table.destroy(); root.classList.remove('fill'); } };
}
