// The Keel master's web UI: a hash router over a few views, two pollers
// (/metrics/snapshot every 2 s, kept as 5 minutes of history for the charts;
// /master/state every 2.5 s while a view needs it) and an error banner when
// the master does not answer.

import { getText } from './js/api.js';
import { indexState } from './js/state.js';
import { fmtClock } from './js/format.js';
import * as overview from './js/views/overview.js';
import * as agents from './js/views/agents.js';
import * as frameworks from './js/views/frameworks.js';
import * as tasks from './js/views/tasks.js';
import * as task from './js/views/task.js';
import * as modules from './js/views/modules.js';

const METRICS_MS = 2000;
const STATE_MS = 2500;
const HISTORY_MS = 5 * 60 * 1000;

const app = {
  store: { metrics: null, history: [], state: null },
  historyMs: HISTORY_MS,
  // Timings of the last /master/state poll, read by tests/webui/large_state.mjs.
  stats: { statePolls: 0, fetchMs: 0, parseMs: 0, indexMs: 0, renderMs: 0, bytes: 0 },
};
window.keel = app;

const errors = new Map(); // poller name -> message
let lastOk = 0;

function showBanner() {
  const banner = document.getElementById('banner');
  if (errors.size === 0) {
    banner.hidden = true;
    return;
  }
  banner.replaceChildren(
    document.createTextNode(`Cannot reach the Keel master at ${location.host}: ${[...errors.values()][0]}. ` +
      `Retrying every few seconds${lastOk ? `; data shown is from ${fmtClock(lastOk)}` : ''}.`));
  banner.hidden = false;
}

// A poller GETs url every `every` ms (after the previous answer) while started.
function poller(name, url, every, onText) {
  let timer = 0;
  let running = false;
  let generation = 0;
  async function tick(gen) {
    try {
      const r = await getText(url, 15000);
      if (gen !== generation) return;
      onText(r);
      lastOk = Date.now();
      if (errors.delete(name)) showBanner();
    } catch (e) {
      if (gen !== generation) return;
      errors.set(name, e.message || String(e));
      showBanner();
    }
    if (running && gen === generation) timer = setTimeout(() => tick(gen), every);
  }
  return {
    start() {
      if (running) return;
      running = true;
      tick(++generation);
    },
    stop() {
      running = false;
      generation++;
      clearTimeout(timer);
      errors.delete(name);
    },
  };
}

let current = null;

function updateView() {
  if (!current || !current.view) return;
  const t0 = performance.now();
  current.view.update();
  return performance.now() - t0;
}

const metricsPoller = poller('metrics', '/metrics/snapshot', METRICS_MS, ({ text }) => {
  const m = JSON.parse(text);
  const now = Date.now();
  const h = app.store.history;
  h.push({ t: now, m });
  while (h.length && h[0].t < now - HISTORY_MS - 10000) h.shift();
  app.store.metrics = m;
  if (current && current.module === overview) updateView();
});

const statePoller = poller('state', '/master/state', STATE_MS, ({ text, ms }) => {
  const t0 = performance.now();
  const raw = JSON.parse(text);
  const t1 = performance.now();
  const st = indexState(raw, app.store.state);
  const t2 = performance.now();
  app.store.state = st;
  updateCounts(st);
  const renderMs = updateView() || 0;
  Object.assign(app.stats, {
    statePolls: app.stats.statePolls + 1, fetchMs: ms, parseMs: t1 - t0, indexMs: t2 - t1, renderMs,
    bytes: text.length, at: Date.now(),
  });
  window.dispatchEvent(new CustomEvent('keel:state'));
});

function updateCounts(st) {
  const set = (id, n) => {
    const el = document.getElementById(id);
    if (el.textContent !== String(n)) el.textContent = String(n);
  };
  set('count-agents', st.agentList.length);
  set('count-frameworks', st.frameworks.length);
  set('count-tasks', st.tasks.length);
  document.getElementById('master-info').textContent =
    `${st.hostname || location.hostname} · ${st.version ? 'v' + st.version : ''}`;
}

// "#/tasks/F/T?q=x" -> {module, params: ['F', 'T'], query}
function parseHash() {
  const hash = location.hash.replace(/^#\/?/, '');
  const at = hash.indexOf('?');
  const path = at < 0 ? hash : hash.slice(0, at);
  const q = at < 0 ? '' : hash.slice(at + 1);
  const parts = path.split('/').filter(Boolean).map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      return p;
    }
  });
  const query = new URLSearchParams(q || '');
  const name = parts[0] || 'overview';
  if (name === 'tasks' && parts.length >= 3) return { name: 'tasks', module: task, params: parts.slice(1, 3), query };
  const module = { overview, agents, frameworks, tasks, modules }[name];
  return module ? { name, module, params: parts.slice(1), query } : { name: 'overview', module: overview, params: [], query };
}

function navigate() {
  const next = parseHash();
  if (current && current.view && current.view.unmount) current.view.unmount();
  const root = document.getElementById('view');
  root.replaceChildren();
  root.className = '';
  for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('active', a.dataset.view === next.name);
  current = { module: next.module, view: null };
  try {
    current.view = next.module.mount(root, app, next.params, next.query);
  } catch (e) {
    root.replaceChildren(document.createTextNode(`This view failed: ${e.message}`));
    console.error(e);
  }
  // The nav's counts come from /master/state too: poll it everywhere but the
  // overview, which needs only the metrics.
  if (next.module.needsState) statePoller.start();
  else statePoller.stop();
  showBanner();
}

window.addEventListener('hashchange', navigate);
window.addEventListener('DOMContentLoaded', () => {
  metricsPoller.start();
  navigate();
});
