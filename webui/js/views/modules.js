// #/modules : the modules the master loaded (its GET /version) and those of
// every agent (each agent's GET /version, fetched directly, a few at a
// time), agents with the same set grouped together.

import { h, simpleTable } from '../dom.js';
import { getJson, mapLimit } from '../api.js';

export const needsState = true;

const PARALLEL = 8;
const FRESH_MS = 60000;
const cache = new Map(); // agent id -> {at, version | error}

function moduleRows(version) {
  return (version.modules || []).map((m) => [m.kind || '', m.name || '', m.version || '', m.library || '']);
}

function modulesTable(version) {
  const rows = moduleRows(version);
  return rows.length ? simpleTable(['Kind', 'Name', 'Version', 'Library'], rows, 'simple modules')
    : h('p', { class: 'dim' }, 'No module loaded.');
}

export function mount(root, app) {
  const master = h('section', { id: 'master-modules' }, h('p', { class: 'placeholder' }, 'Asking the master…'));
  const agents = h('section', { id: 'agent-modules' }, h('p', { class: 'placeholder' }, 'Waiting for /master/state…'));
  root.append(h('h1', null, 'Modules'), h('h2', null, 'Master'), master, h('h2', null, 'Agents'), agents);
  let stopped = false;
  let started = false;

  getJson('/version', 5000).then((v) => {
    if (stopped) return;
    master.replaceChildren(h('p', { class: 'dim' },
      `${v.daemon || 'keel-master'} ${v.version || ''}, module ABI ${v.module_abi_version ?? '?'}`), modulesTable(v));
  }, (e) => !stopped && master.replaceChildren(h('p', { class: 'warn' }, String(e.message || e))));

  async function loadAgents(list) {
    const progress = h('p', { class: 'dim' }, `Asking ${list.length} agents…`);
    agents.replaceChildren(progress);
    let done = 0;
    await mapLimit(list, PARALLEL, async (a) => {
      const c = cache.get(a.id);
      if (!c || Date.now() - c.at > FRESH_MS) {
        try {
          cache.set(a.id, { at: Date.now(), version: await getJson(`${a.base}/version`, 5000) });
        } catch (e) {
          cache.set(a.id, { at: Date.now(), error: String(e.message || e) });
        }
      }
      if (!stopped) progress.textContent = `Asked ${++done} of ${list.length} agents…`;
    });
    if (stopped) return;
    // Group agents by identical module lists.
    const groups = new Map();
    for (const a of list) {
      const c = cache.get(a.id);
      const key = c.error ? 'error\u0001' + c.error : JSON.stringify(moduleRows(c.version));
      if (!groups.has(key)) groups.set(key, { c, agents: [] });
      groups.get(key).agents.push(a);
    }
    const sections = [...groups.values()].sort((x, y) => y.agents.length - x.agents.length).map((g) => {
      const names = g.agents.slice(0, 30).map((a) => a.hostname || a.id).join(', ') +
        (g.agents.length > 30 ? `, and ${g.agents.length - 30} more` : '');
      return h('div', { class: 'module-group' },
        h('h3', null, `${g.agents.length} agent${g.agents.length === 1 ? '' : 's'}`,
          g.c.version ? ` (${g.c.version.version || ''})` : ''),
        h('p', { class: 'agents-list' }, names),
        g.c.error ? h('p', { class: 'warn' }, g.c.error) : modulesTable(g.c.version));
    });
    agents.replaceChildren(...(sections.length ? sections : [h('p', { class: 'dim' }, 'No agent registered.')]));
  }

  function update() {
    const st = app.store.state;
    if (!st || started) return;
    started = true;
    loadAgents(st.agentList.filter((a) => a.base));
  }
  update();
  return { update, unmount: () => { stopped = true; } };
}
