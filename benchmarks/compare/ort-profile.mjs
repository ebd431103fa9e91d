#!/usr/bin/env node
// ONNX Runtime's own per-node profile of one model (CPU execution provider), to set next to `Inspect profile`: the
// median time of every node over the timed runs, then the total per operator type.
// usage: node ort-profile.mjs --model FILE.onnx --resolution N [--batch B] [--threads T] [--runs R] [--warmup W]
// (the ONNX files are the ones compare/run exports into .cache/)

import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSession, median, modelArguments, ort, seededFeeds } from './ort-session.mjs';

const args = modelArguments('ort-profile.mjs', 5);
// ONNX Runtime's profiler writes its trace into a scratch folder when the session is released.
const scratch = mkdtempSync(join(tmpdir(), 'ort-profile-'));
const session = await createSession(args, { enableProfiling: true, profileFilePrefix: join(scratch, 'trace') });
const feeds = seededFeeds(session, args);
for (let i = 0; i < args.warmup + args.runs; i++) await session.run(feeds);
await session.release();

const traces = readdirSync(scratch);
if (traces.length === 0) throw new Error(`ONNX Runtime wrote no profile into ${scratch}`);
const events = JSON.parse(readFileSync(join(scratch, traces[0]), 'utf8'));
rmSync(scratch, { recursive: true, force: true });
const nodes = new Map(), runTimes = [];
for (const e of events) {
  if (e.cat === 'Session' && e.name === 'model_run') runTimes.push(e.dur / 1000);
  if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
  const name = e.name.slice(0, -'_kernel_time'.length);
  if (!nodes.has(name)) nodes.set(name, { op: e.args?.op_name ?? '?', times: [] });
  nodes.get(name).times.push(e.dur / 1000);
}
const byOp = new Map();
console.log(`ONNX Runtime ${ort.env.versions.common} profile of ${args.model}, ${args.threads} thread(s), batch ${args.batch}, ${args.runs} runs (median per node, ms)`);
for (const [name, { op, times }] of nodes) {
  const ms = median(times.slice(-args.runs));
  byOp.set(op, (byOp.get(op) ?? 0) + ms);
  console.log(`${name.slice(-70).padEnd(70)} ${op.padEnd(20)} ${ms.toFixed(3).padStart(8)}`);
}
console.log(`\nmodel run (profiled, so slower than ort-latency.mjs): ${median(runTimes.slice(-args.runs)).toFixed(2)} ms`);
for (const [op, ms] of [...byOp].sort((a, b) => b[1] - a[1])) console.log(`${op.padEnd(24)} ${ms.toFixed(3).padStart(8)}`);

