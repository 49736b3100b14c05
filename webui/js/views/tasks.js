// #/tasks[?q=text&state=S&framework=F&agent=A] : every task the master
// knows (active and completed, of live and completed frameworks) in a
// windowed table, filtered by text and state, sortable by column.

import { h, route, withQuery } from '../dom.js';
import { VirtualTable } from '../vtable.js';
import { TASK_STATES, fmtCpus, fmtMB, fmtTime, isTerminal, shortState, stateClass } from '../format.js';

export const needsState = true;

// Kept across visits to the view.
const saved = { q: '', state: '', sort: 7, dir: -1 };

const cmp = (a, b) => (a < b ? -1 : a > b ? 1 : 0);

const COLUMNS = [
  { title: 'State', width: '8.5em', text: (t) => shortState(t.state), cls: (t) => stateClass(t.state),
    tip: (t) => t.state, sortKey: (t) => t.state },
  { title: 'Name', width: 'minmax(8em, 2fr)', text: (t) => t.name || '(unnamed)',
    href: (t) => route('tasks', t.fid, t.id), cls: () => 'task-link', sortKey: (t) => t.name },
  { title: 'ID', width: 'minmax(8em, 2fr)', text: (t) => t.id, href: (t) => route('tasks', t.fid, t.id),
    cls: () => 'mono', sortKey: (t) => t.id },
  { title: 'Framework', width: 'minmax(6em, 1.3fr)', text: (t) => t.fname || t.fid,
    tip: (t) => `${t.fname} (${t.fid})`, sortKey: (t) => t.fname },
  { title: 'Agent', width: 'minmax(6em, 1.3fr)', text: (t) => t.agentHost || t.agentId,
    tip: (t) => `${t.agentHost} (${t.agentId})`, sortKey: (t) => t.agentHost },
  { title: 'CPUs', width: '4.5em', text: (t) => fmtCpus(t.cpus), cls: () => 'num', sortKey: (t) => t.cpus },
  { title: 'Mem', width: '6em', text: (t) => fmtMB(t.mem), cls: () => 'num', sortKey: (t) => t.mem },
  { title: 'Updated', width: '12.5em', text: (t) => fmtTime(t.updated), sortKey: (t) => t.updated },
];

export function mount(root, app, params, query) {
  if (query.has('q')) saved.q = query.get('q');
  if (query.has('state')) saved.state = query.get('state');
  const framework = query.get('framework') || '';
  const agent = query.get('agent') || '';

  const text = h('input', { type: 'search', id: 'task-filter', placeholder: 'Filter: name, id, framework, agent',
    value: saved.q, 'aria-label': 'Filter tasks' });
  const stateSel = h('select', { id: 'task-state', 'aria-label': 'State' });
  const shown = h('span', { class: 'shown', id: 'task-count' });
  const chips = [];
  if (framework) chips.push(chip('framework', framework, query));
  if (agent) chips.push(chip('agent', agent, query));
  const table = new VirtualTable({
    columns: COLUMNS, empty: 'No task matches.',
    rowAttrs: (t) => ({ 'data-task-id': t.id, 'data-state': t.state }),
    onSort: (i) => {
      saved.dir = saved.sort === i ? -saved.dir : 1;
      saved.sort = i;
      dirty = true;
      update();
    },
  });
  root.append(h('div', { class: 'toolbar' }, h('h1', null, 'Tasks'), text, stateSel, chips, shown), table.el);
  root.classList.add('fill');

  let dirty = true;
  let lastState = null;
  let debounce = 0;
  text.addEventListener('input', () => {
    clearTimeout(debounce);
    debounce = setTimeout(() => {
      saved.q = text.value;
      dirty = true;
      update();
    }, 120);
  });
  stateSel.addEventListener('change', () => {
    saved.state = stateSel.value;
    dirty = true;
    update();
  });

  function fillStates(counts, total) {
    const opts = [['', `All states (${total})`], ['active', `Active (${counts.active || 0})`],
      ['terminal', `Terminal (${counts.terminal || 0})`]];
    for (const s of TASK_STATES) if (counts[s] || s === saved.state) opts.push([s, `${shortState(s)} (${counts[s] || 0})`]);
    const sig = opts.map((o) => o.join('=')).join('|');
    if (stateSel.sig === sig) return;
    stateSel.sig = sig;
    stateSel.replaceChildren(...opts.map(([v, label]) => h('option', { value: v }, label)));
    stateSel.value = saved.state;
  }

  function update() {
    const st = app.store.state;
    if (!st) {
      shown.textContent = 'waiting for /master/state…';
      return;
    }
    if (st === lastState && !dirty) return;
    lastState = st;
    dirty = false;
    const counts = { active: 0, terminal: 0 };
    for (const t of st.tasks) {
      counts[t.state] = (counts[t.state] || 0) + 1;
      counts[t.terminal ? 'terminal' : 'active']++;
    }
    fillStates(counts, st.tasks.length);
    const q = saved.q.trim().toLowerCase();
    const s = saved.state;
    const rows = st.tasks.filter((t) =>
      (!q || t.hay.includes(q)) && (!framework || t.fid === framework) && (!agent || t.agentId === agent) &&
      (!s || (s === 'active' ? !isTerminal(t.state) : s === 'terminal' ? isTerminal(t.state) : t.state === s)));
    const key = COLUMNS[saved.sort].sortKey;
    const dir = saved.dir;
    rows.sort((a, b) => dir * cmp(key(a), key(b)) || cmp(a.key, b.key));
    table.markSort(saved.sort, dir);
    shown.textContent = `${rows.length} of ${st.tasks.length} tasks`;
    table.setRows(rows);
  }

  update();
  return {
    update,
    unmount: () => {
      table.destroy();
      root.classList.remove('fill');
    },
  };
}

function chip(name, value, query) {
  const rest = Object.fromEntries([...query.entries()].filter(([k]) => k !== name));
  return h('span', { class: 'chip' }, `${name}: ${value} `,
    h('a', { href: withQuery('#/tasks', rest), title: 'Remove this filter' }, '×'));
}
