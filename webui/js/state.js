// Indexes a /master/state answer for the views. Row records whose visible
// fields did not change since the previous poll are the same objects as
// before, so the tables can skip them by identity.

import { agentBase } from './api.js';
import { isTerminal } from './format.js';

function res(r) {
  r = r || {};
  return { cpus: +r.cpus || 0, mem: +r.mem || 0, disk: +r.disk || 0, gpus: +r.gpus || 0, ports: r.ports || '' };
}

function reuse(prev, key, rec) {
  const old = prev && prev.get(key);
  return old && old.sig === rec.sig ? old : rec;
}

function lastTimestamp(task) {
  const s = task.statuses;
  return s && s.length ? +s[s.length - 1].timestamp || 0 : 0;
}

export function indexState(raw, prev) {
  const agents = new Map();
  for (const s of raw.slaves || []) {
    const r = res(s.resources);
    const u = res(s.used_resources);
    const base = agentBase(s);
    const rec = {
      key: s.id, id: s.id, hostname: s.hostname || '', base, active: s.active !== false,
      address: base ? base.replace(/^http:\/\//, '') : '',
      version: s.version || '', registered: +s.registered_time || 0, resources: r, used: u,
      raw: s,
    };
    rec.sig = [rec.hostname, rec.active, r.cpus, r.mem, r.disk, u.cpus, u.mem, u.disk, rec.version,
      rec.registered, base].join('\u0001');
    rec.hay = (rec.hostname + ' ' + rec.id + ' ' + rec.address).toLowerCase();
    const kept = reuse(prev && prev.agents, rec.key, rec);
    kept.raw = s;
    agents.set(rec.key, kept);
  }

  const frameworks = [];
  const frameworkMap = new Map();
  const tasks = [];
  const taskMap = new Map();
  const addFramework = (f, completed) => {
    const u = res(f.used_resources);
    const active = (f.tasks || []).length;
    const rec = {
      key: f.id, id: f.id, name: f.name || '', active: !!f.active && !completed,
      connected: !!f.connected && !completed, completed, user: f.user || '',
      role: f.role || (f.roles || []).join(','), principal: f.principal || '',
      registered: +f.registered_time || 0, used: u, activeTasks: active,
      doneTasks: (f.completed_tasks || []).length, raw: f,
    };
    rec.sig = [rec.name, rec.active, rec.connected, completed, rec.user, rec.role, rec.principal,
      rec.registered, u.cpus, u.mem, u.disk, active, rec.doneTasks].join('\u0001');
    rec.hay = (rec.name + ' ' + rec.id + ' ' + rec.user + ' ' + rec.role).toLowerCase();
    const kept = reuse(prev && prev.frameworkMap, rec.key, rec);
    kept.raw = f;
    // A framework's id stays in completed_frameworks once torn down; the live one wins.
    if (frameworkMap.has(rec.key)) return;
    frameworks.push(kept);
    frameworkMap.set(rec.key, kept);
    for (const list of [f.tasks, f.unreachable_tasks, f.completed_tasks]) {
      for (const t of list || []) addTask(t, kept);
    }
  };
  const addTask = (t, fw) => {
    const fid = t.framework_id || fw.id;
    const key = fid + '/' + t.id;
    if (taskMap.has(key)) return;
    const agent = agents.get(t.slave_id);
    const agentHost = agent ? agent.hostname : '';
    const r = t.resources || {};
    const cpus = +r.cpus || 0;
    const mem = +r.mem || 0;
    const updated = lastTimestamp(t);
    const name = t.name || '';
    const state = t.state || '';
    // 10,000 tasks a poll: the signature first, a new record only when it differs.
    const sig = name + '\u0001' + state + '\u0001' + fw.name + '\u0001' + agentHost + '\u0001' + cpus +
      '\u0001' + mem + '\u0001' + updated;
    let rec = prev && prev.taskMap.get(key);
    if (!rec || rec.sig !== sig) {
      rec = {
        key, id: t.id, name, state, fid, fname: fw.name, agentId: t.slave_id || '', agentHost, cpus, mem,
        updated, terminal: isTerminal(state), sig,
        hay: (name + ' ' + t.id + ' ' + fw.name + ' ' + fid + ' ' + agentHost + ' ' + state).toLowerCase(),
      };
    }
    rec.raw = t;
    tasks.push(rec);
    taskMap.set(key, rec);
  };
  for (const f of raw.frameworks || []) addFramework(f, false);
  for (const f of raw.completed_frameworks || []) addFramework(f, true);

  return {
    raw, agents, agentList: [...agents.values()], frameworks, frameworkMap, tasks, taskMap,
    hostname: raw.hostname || '', version: raw.version || '', id: raw.id || '',
  };
}
