// The web UI against a real master and agent (started by run.sh): load the
// UI, launch a task with keelctl, see it appear in the tasks view and reach
// TASK_FINISHED, open its page and see its stdout; then the modules view and
// the error banner. Saves $KEEL_ARTIFACTS/webui.png.
//
// Environment: KEEL_MASTER (ip:port), KEEL_KEELCTL, KEEL_ARTIFACTS.

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { launch } from './chromium.mjs';

const MASTER = process.env.KEEL_MASTER;
const KEELCTL = process.env.KEEL_KEELCTL;
const ARTIFACTS = process.env.KEEL_ARTIFACTS || '.';
const URL_BASE = `http://${MASTER}`;
const MARKER = 'keel-webui-marker';
// Markup in a task name must show as text.
const TASK_NAME = 'webui <b>test</b> & "q"';
const DEADLINE = Date.now() + 240_000; // below CTest's timeout, so that run.sh's trap runs

const problems = []; // console errors, page errors, failed requests
let step = 'start';

function log(msg) {
  console.log(`webui: ${msg}`);
}

async function until(what, fn, timeoutMs) {
  step = what;
  const end = Math.min(Date.now() + timeoutMs, DEADLINE);
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out: ${what}${last ? ` (last error: ${last.message})` : ''}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function getJson(path) {
  const res = await fetch(URL_BASE + path);
  if (!res.ok) throw new Error(`${path} answered ${res.status}`);
  return res.json();
}

const t0 = Date.now();
const since = () => `${((Date.now() - t0) / 1000).toFixed(1)} s`;
let keelctl = null;
let keelctlOut = '';
let keelctlExit = null;
const { context, close } = await launch();
const page = context.pages()[0] || (await context.newPage());
page.on('console', (m) => {
  if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
});
page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure() ? r.failure().errorText : ''}`));

try {
  // The daemons: the master answers, the agent has registered.
  await until('the master serves /health', async () => (await fetch(URL_BASE + '/health')).ok, 30_000);
  const agent = await until('the agent registers', async () => (await getJson('/master/state')).slaves?.[0], 30_000);
  log(`master ${MASTER}, agent ${agent.hostname}:${agent.port} registered (${since()})`);

  // Overview: the master's totals from /metrics/snapshot.
  step = 'open the overview';
  await page.goto(`${URL_BASE}/`);
  await until('the overview shows 2 CPUs in total', async () =>
    /\/ 2$/.test(await page.locator('#usage-cpus .big').textContent()), 15_000);
  log(`overview shows cpus ${await page.locator('#usage-cpus .big').textContent()} (${since()})`);

  // Tasks: launch one with keelctl; open the tasks view once it runs (the
  // view polls at once on opening), so that the row is seen changing.
  step = 'launch a task with keelctl';
  keelctl = spawn(KEELCTL, ['run', `--master=${MASTER}`, '--cpus=0.1', '--mem=32', `--name=${TASK_NAME}`, '--',
    // keelctl joins the words after '--' with spaces into one shell command
    // line, so the command is one word here.
    `echo ${MARKER}; sleep 2`], { stdio: ['ignore', 'pipe', 'pipe'] });
  keelctl.stdout.on('data', (d) => (keelctlOut += d));
  keelctl.stderr.on('data', (d) => (keelctlOut += d));
  keelctl.on('exit', (code, signal) => (keelctlExit = signal || code));
  await until('keelctl reports TASK_RUNNING', async () => keelctlOut.includes('TASK_RUNNING') || keelctlExit !== null, 30_000);
  await page.locator('#nav a[data-view=tasks]').click();

  const row = page.locator('.vt-row[data-task-id^="keelctl-"]');
  await until('the task appears in the tasks view', async () => (await row.count()) === 1, 30_000);
  const taskId = await row.getAttribute('data-task-id');
  const firstState = await row.getAttribute('data-state');
  log(`task ${taskId} appears as ${firstState} (${since()})`);
  await until('the task reaches TASK_FINISHED in the tasks view',
    async () => (await row.getAttribute('data-state')) === 'TASK_FINISHED', 60_000);
  log(`task ${taskId} is TASK_FINISHED in the view${firstState === 'TASK_FINISHED' ? ' (it ended before the view\'s first poll)' : ''} (${since()})`);
  const nameCell = row.locator('.task-link');
  const shownName = await nameCell.textContent();
  if (shownName !== TASK_NAME) throw new Error(`the name cell shows ${JSON.stringify(shownName)}, not ${JSON.stringify(TASK_NAME)}`);
  if (await row.locator('b').count()) throw new Error('markup in the task name became an element');

  // Its page: statuses and the stdout tail, read from the agent.
  step = 'open the task page';
  await nameCell.click();
  await until('the task page shows TASK_FINISHED', async () =>
    (await page.locator('#task-state').textContent()) === 'TASK_FINISHED', 15_000);
  await until(`the stdout view shows ${MARKER}`, async () =>
    (await page.locator('pre#stdout').textContent()).includes(MARKER), 30_000);
  log(`task page ${await page.evaluate(() => location.hash)} shows ${MARKER} in stdout (${since()})`);
  await page.screenshot({ path: join(ARTIFACTS, 'webui.png'), fullPage: true });
  log(`screenshot: ${join(ARTIFACTS, 'webui.png')}`);

  // keelctl got the same output and exited 0.
  await until('keelctl exits', async () => keelctlExit !== null, 30_000);
  if (keelctlExit !== 0 || !keelctlOut.includes(MARKER)) {
    throw new Error(`keelctl exited ${keelctlExit} with: ${keelctlOut}`);
  }

  // Modules: the master's and the agent's, the latter asked from the page.
  await page.goto(`${URL_BASE}/#/modules`);
  await until('the modules view lists the master\'s modules', async () =>
    (await page.locator('#master-modules table tbody tr').count()) > 0, 15_000);
  await until('the modules view lists the agent\'s modules', async () =>
    (await page.locator('#agent-modules table tbody tr').count()) > 0, 15_000);
  log(`modules view: master ${await page.locator('#master-modules tbody tr').count()} modules, ` +
    `agent ${await page.locator('#agent-modules tbody tr').count()} (${since()})`);

  // The master unreachable: a banner over the last data, not a blank page.
  await page.goto(`${URL_BASE}/#/tasks`);
  await until('the tasks view lists the task again', async () => (await row.count()) === 1, 15_000);
  // What the page reports while its requests are aborted on purpose is expected.
  const expectedFrom = problems.length;
  await page.route(/\/(master\/state|metrics\/snapshot)/, (r) => r.abort());
  await until('the error banner shows', async () => page.locator('#banner').isVisible(), 15_000);
  if ((await row.count()) !== 1) throw new Error('the tasks view emptied when the master stopped answering');
  log(`banner: ${await page.locator('#banner').textContent()}`);
  await page.unroute(/\/(master\/state|metrics\/snapshot)/);
  await until('the banner goes once the master answers', async () => !(await page.locator('#banner').isVisible()), 15_000);
  const expected = problems.splice(expectedFrom);
  if (!expected.length) throw new Error('aborting the master\'s endpoints reported nothing: was the banner check real?');

  const unexpected = problems;
  if (unexpected.length) throw new Error(`the page reported problems:\n  ${unexpected.join('\n  ')}`);
  log(`passed (${since()})`);
  console.log('1 passed, 0 failed');
} catch (e) {
  console.error(`webui: FAILED at "${step}": ${e.message}`);
  for (const p of problems) console.error(`webui:   ${p}`);
  if (keelctl) console.error(`webui: keelctl (exit ${keelctlExit}): ${keelctlOut.trim()}`);
  try {
    console.error(`webui: page at ${page.url()}: ${(await page.locator('body').innerText()).slice(0, 2000)}`);
    await page.screenshot({ path: join(ARTIFACTS, 'webui-failure.png'), fullPage: true });
    console.error(`webui: screenshot: ${join(ARTIFACTS, 'webui-failure.png')}`);
  } catch {}
  process.exitCode = 1;
} finally {
  if (keelctl && keelctlExit === null) keelctl.kill();
  await close();
}
