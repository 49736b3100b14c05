// #/tasks/<framework_id>/<task_id> : one task's fields and statuses, and
// the tails of its sandbox's stdout and stderr read from its agent.

import { h, definitionList, simpleTable, withQuery } from '../dom.js';
import { LogTail } from '../logtail.js';
import { fmtCpus, fmtMB, fmtTime, stateClass } from '../format.js';

export const needsState = true;

const MAX_STATUSES = 100; // the newest shown

export function mount(root, app, params) {
  const [fid, tid] = params;
  const title = h('h1', null, 'Task ', h('span', { class: 'mono' }, tid));
  const info = h('div', { class: 'task-info' }, h('p', { class: 'placeholder' }, 'Waiting for /master/state…'));
  const logs = h('div', { class: 'logs' });
  root.append(h('p', { class: 'crumbs' }, h('a', { href: '#/tasks' }, 'Tasks'), ' / ',
    h('a', { href: withQuery('#/tasks', { framework: fid }) }, fid), ' / ', tid), title, info, logs);

  let sig = null;
  let tails = null;

  function startLogs(base) {
    const sandbox = `/frameworks/${fid}/executors/${tid}/runs/latest`;
    tails = ['stdout', 'stderr'].map((name) => {
      const pre = h('pre', { class: 'log', id: name, tabindex: '0' });
      const status = h('span', { class: 'log-status' });
      logs.append(h('section', { class: 'log-pane' },
        h('h2', null, name, ' ', status, ' ',
          h('a', { class: 'raw', target: '_blank', rel: 'noopener',
            href: `${base}/files/read?${new URLSearchParams({ path: `${sandbox}/${name}`, offset: '0' })}` }, 'raw')),
        pre));
      return new LogTail(pre, status, { base, path: `${sandbox}/${name}` });
    });
  }

  function update() {
    const st = app.store.state;
    if (!st) return;
    const t = st.taskMap.get(fid + '/' + tid);
    if (!t) {
      if (sig !== 'missing') {
        sig = 'missing';
        info.replaceChildren(h('p', { class: 'warn' },
          `Task ${tid} of framework ${fid} is not in /master/state (yet, or any more).`));
      }
      return;
    }
    const agent = st.agents.get(t.agentId);
    const raw = t.raw;
    const statuses = raw.statuses || [];
    const nextSig = [t.sig, statuses.length, agent ? agent.sig : ''].join('|');
    if (!tails && agent && agent.base) startLogs(agent.base);
    if (tails && t.terminal) tails.forEach((l) => l.taskEnded());
    if (nextSig === sig) return;
    sig = nextSig;
    title.replaceChildren('Task ', h('span', { class: 'name' }, t.name || '(unnamed)'), ' ',
      h('span', { class: stateClass(t.state), id: 'task-state' }, t.state));
    const r = raw.resources || {};
    info.replaceChildren(
      h('div', { class: 'task-props' }, definitionList([
        ['ID', h('span', { class: 'mono' }, t.id)],
        ['Framework', [h('a', { href: withQuery('#/tasks', { framework: t.fid }) }, t.fname || t.fid), ' ',
          h('span', { class: 'mono dim' }, t.fid)]],
        ['Agent', agent ? [h('a', { href: withQuery('#/tasks', { agent: agent.id }) }, agent.hostname), ' ',
          h('span', { class: 'mono dim' }, agent.address)] : `${t.agentId} (not registered)`],
        ['Executor', raw.executor_id || ''],
        ['Role', raw.role || ''],
        ['Resources', Object.entries(r).filter(([, v]) => v !== 0 && v !== '')
          .map(([k, v]) => `${k}: ${k === 'cpus' ? fmtCpus(v) : k === 'mem' || k === 'disk' ? fmtMB(v) : v}`)
          .join(', ')],
      ])),
      h('div', { class: 'task-statuses' }, h('h2', null, 'Statuses'),
      statuses.length
        ? simpleTable(['State', 'Time', 'Message'], statuses.slice(-MAX_STATUSES).reverse().map((s) => [
          h('span', { class: stateClass(s.state) }, s.state), fmtTime(s.timestamp), s.message || '']), 'simple statuses')
        : h('p', { class: 'dim' }, 'No status yet.')),
    );
    if (!agent) logs.replaceChildren(h('p', { class: 'warn' }, 'The task\u2019s agent is not registered: no sandbox to read.'));
    else if (!agent.base) logs.replaceChildren(h('p', { class: 'warn' }, 'The agent\u2019s address is unknown.'));
  }

  update();
  return {
    update,
    unmount: () => tails && tails.forEach((l) => l.stop()),
  };
}
