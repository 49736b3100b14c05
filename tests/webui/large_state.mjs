// Performance check of the web UI with a large cluster (not a pass/fail
// test): serves webui/ with a generated /master/state of N agents and M
// tasks, opens the tasks view in headless Chromium and prints how long the
// first render and one poll's update take.
//
//   node large_state.mjs <source dir> [--agents=1000] [--tasks=10000] [--serve]
// --serve keeps the fixture server up (prints its URL) instead of measuring.

import http from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { launch } from './chromium.mjs';

const args = process.argv.slice(2);
const source = args.find((a) => !a.startsWith('--')) || new URL('../..', import.meta.url).pathname;
const opt = (name, def) => {
  const a = args.find((x) => x.startsWith(`--${name}=`));
  return a ? Number(a.split('=')[1]) : def;
};
const AGENTS = opt('agents', 1000);
const TASKS = opt('tasks', 10000);
const FRAMEWORKS = opt('frameworks', 20);
const CHANGES = opt('changes', 100); // tasks changed between two polls
const webui = join(source, 'webui');

// ---- the fixture ----------------------------------------------------------
const start = Date.now() / 1000 - 3600;
const STATES = ['TASK_RUNNING', 'TASK_RUNNING', 'TASK_RUNNING', 'TASK_FINISHED', 'TASK_STAGING', 'TASK_FAILED'];
const agents = Array.from({ length: AGENTS }, (_, i) => ({
  id: `a1b2c3d4-0000-4000-8000-agent-S${i}`, hostname: `host-${String(i).padStart(4, '0')}.dc1.example`,
  port: 5051, pid: `slave(1)@10.1.${i >> 8}.${i & 255}:5051`, registered_time: start + i,
  resources: { cpus: 32, gpus: 0, mem: 131072, disk: 1048576, ports: '[31000-32000]' },
  used_resources: { cpus: 0, gpus: 0, mem: 0, disk: 0 }, offered_resources: { cpus: 0, gpus: 0, mem: 0, disk: 0 },
  active: true, version: '0.1.0',
}));
const frameworks = Array.from({ length: FRAMEWORKS }, (_, i) => ({
  id: `f0f0f0f0-0000-4000-8000-fw-0000${i}`, name: `framework-${i} <batch & "etl">`, active: true, connected: true,
  user: 'root', role: '*', principal: '', registered_time: start + i, used_resources: { cpus: 0, gpus: 0, mem: 0, disk: 0 },
  offered_resources: { cpus: 0, gpus: 0, mem: 0, disk: 0 }, tasks: [], completed_tasks: [],
}));
const tasks = Array.from({ length: TASKS }, (_, i) => {
  const f = frameworks[i % FRAMEWORKS];
  const state = STATES[i % STATES.length];
  return {
    id: `task-${String(i).padStart(6, '0')}-${(i * 2654435761 >>> 0).toString(16)}`,
    name: `job-${i % 97} shard ${i} <img src=x onerror=alert(1)>`, framework_id: f.id,
    executor_id: '', slave_id: agents[i % AGENTS].id, state, role: '*',
    resources: { cpus: 0.5, gpus: 0, mem: 512, disk: 0 },
    statuses: [{ state: 'TASK_STAGING', timestamp: start + i / 10 }, { state, timestamp: start + i / 10 + 1 }],
  };
});
let polls = 0;
function stateJson() {
  // Between polls, CHANGES tasks move on one state.
  if (polls++ > 0) {
    for (let k = 0; k < CHANGES; k++) {
      const t = tasks[(polls * 7919 + k * 104729) % tasks.length];
      t.state = t.state === 'TASK_RUNNING' ? 'TASK_FINISHED' : 'TASK_RUNNING';
      t.statuses.push({ state: t.state, timestamp: Date.now() / 1000 });
    }
  }
  for (const f of frameworks) { f.tasks = []; f.completed_tasks = []; }
  const byId = new Map(frameworks.map((f) => [f.id, f]));
  for (const t of tasks) {
    const f = byId.get(t.framework_id);
    (t.state === 'TASK_FINISHED' || t.state === 'TASK_FAILED' ? f.completed_tasks : f.tasks).push(t);
  }
  return JSON.stringify({
    id: 'master-fixture', pid: 'master@127.0.0.1:5050', hostname: 'fixture', version: '0.1.0', start_time: start,
    activated_slaves: AGENTS, slaves: agents, frameworks, completed_frameworks: [],
  });
}
const metrics = () => JSON.stringify({
  'master/cpus_total': AGENTS * 32, 'master/cpus_used': TASKS * 0.3 + Math.random() * 100,
  'master/mem_total': AGENTS * 131072, 'master/mem_used': TASKS * 300, 'master/disk_total': AGENTS * 1048576,
  'master/disk_used': 0, 'master/tasks_running': TASKS / 2, 'master/slaves_active': AGENTS,
  'master/frameworks_active': FRAMEWORKS,
});
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.md': 'text/markdown' };
const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://x');
  const send = (code, type, body) => { res.writeHead(code, { 'Content-Type': type }); res.end(body); };
  if (url.pathname === '/master/state') return send(200, 'application/json', stateJson());
  if (url.pathname === '/metrics/snapshot') return send(200, 'application/json', metrics());
  if (url.pathname === '/version') return send(200, 'application/json', JSON.stringify({ version: '0.1.0', daemon: 'keel-master', module_abi_version: 3, modules: [] }));
  const file = normalize(url.pathname === '/' ? '/index.html' : url.pathname);
  try {
    send(200, TYPES[extname(file)] || 'application/octet-stream', await readFile(join(webui, file)));
  } catch {
    send(404, 'text/plain', 'not found');
  }
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${server.address().port}`;
if (args.includes('--serve')) {
  console.log(`fixture: ${AGENTS} agents, ${TASKS} tasks at ${base}/`);
} else {
  await measure().finally(() => server.close());
}

// ---- the measurement ------------------------------------------------------
async function measure() {
  const { context, close } = await launch();
  const ms = (x) => `${x.toFixed(1)} ms`;
  try {
    const page = context.pages()[0] || (await context.newPage());
    page.on('pageerror', (e) => console.error('page error:', e.message));
    await page.addInitScript(() => {
      window.longTasks = [];
      new PerformanceObserver((l) => { for (const e of l.getEntries()) window.longTasks.push(e.duration); })
        .observe({ type: 'longtask', buffered: true });
    });
    const size = Buffer.byteLength(stateJson());
    polls = 0;
    await page.goto(`${base}/#/tasks`);
    await page.waitForFunction(() => window.keel && window.keel.stats.statePolls >= 1 &&
      document.querySelectorAll('.vt-spacer .vt-row').length > 0);
    const first = await page.evaluate(() => ({ ...window.keel.stats, now: performance.now(),
      rows: document.querySelectorAll('.vt-spacer .vt-row').length, count: document.getElementById('task-count').textContent }));

    // One poll's update, twice: sorted by last update (the default; the
    // changed tasks move to the top, so the window's rows are all new) and
    // sorted by id (rows stay; only the changed ones in view are rewritten).
    const fills = () => page.evaluate(async () => (await import('/js/vtable.js')).VirtualTable.fills);
    const nextPoll = async () => {
      const n = await page.evaluate(() => window.keel.stats.statePolls);
      const before = await fills();
      await page.waitForFunction((k) => window.keel.stats.statePolls > k, n, { timeout: 10000 });
      return { ...(await page.evaluate(() => window.keel.stats)), rewritten: (await fills()) - before };
    };
    const second = await nextPoll();
    await page.locator('.vt-head .vt-cell', { hasText: 'ID' }).click();
    await nextPoll();
    const third = await nextPoll();

    // Filtering and scrolling.
    const filterMs = await page.evaluate(async () => {
      const input = document.getElementById('task-filter');
      input.value = 'shard 12';
      const t0 = performance.now();
      input.dispatchEvent(new Event('input'));
      await new Promise((r) => setTimeout(r, 125)); // the view's debounce is 120 ms
      await new Promise((r) => requestAnimationFrame(() => setTimeout(r)));
      return performance.now() - t0 - 120;
    });
    await page.evaluate(() => { const i = document.getElementById('task-filter'); i.value = ''; i.dispatchEvent(new Event('input')); });
    await page.waitForTimeout(300);
    const scrollMs = await page.evaluate(async () => {
      const body = document.querySelector('.vt-body');
      const times = [];
      for (const f of [0.25, 0.5, 0.75, 1]) {
        const t0 = performance.now();
        body.scrollTop = body.scrollHeight * f;
        await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
        times.push(performance.now() - t0);
      }
      return Math.max(...times);
    });
    await page.goto(`${base}/#/agents`);
    const agentsT0 = Date.now();
    await page.waitForFunction(() => document.querySelectorAll('[data-agent-id]').length > 0);
    const agentsMs = Date.now() - agentsT0;
    const longTasks = await page.evaluate(() => window.longTasks);

    console.log(`large state: ${AGENTS} agents, ${TASKS} tasks, ${FRAMEWORKS} frameworks; /master/state ${(size / 1048576).toFixed(1)} MiB`);
    console.log(`tasks view, first load: page open to rows drawn ${ms(first.now)}; ` +
      `fetch ${ms(first.fetchMs)}, JSON.parse ${ms(first.parseMs)}, index ${ms(first.indexMs)}, render ${ms(first.renderMs)}; ` +
      `${first.rows} row elements in the DOM (${first.count})`);
    const upd = (x) => `JSON.parse ${ms(x.parseMs)}, index ${ms(x.indexMs)}, render ${ms(x.renderMs)}, ` +
      `main thread ${ms(x.parseMs + x.indexMs + x.renderMs)}; rows rewritten: ${x.rewritten} of ${first.rows}`;
    console.log(`one poll update (${CHANGES} tasks changed), sorted by last update: ${upd(second)}`);
    console.log(`one poll update (${CHANGES} tasks changed), sorted by id: ${upd(third)}`);
    console.log(`filter "shard 12": ${ms(filterMs)}; scroll jump, worst frame: ${ms(scrollMs)}; agents view open: ${agentsMs} ms`);
    console.log(`long tasks (>50 ms) on the main thread: ${longTasks.length ? longTasks.map((d) => Math.round(d)).join(', ') + ' ms' : 'none'}`);
  } finally {
    await close();
  }
}
