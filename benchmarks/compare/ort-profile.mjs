#!/usr/bin/env node
// ONNX Runtime's own per-node profile of one model (CPU execution provider), to set next to `Inspect profile`: the
// median time of every node over the timed runs, then the total per operator type.
// usage: node ort-profile.mjs --model FILE.onnx --resolution N [--batch B] [--threads T] [--runs R] [--warmup W]
// (the ONNX files are the ones compare/run exports into .cache/)

import { parseArgs } from 'node:util';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';

const { values } = parseArgs({
  options: {
    model: { type: 'string' }, resolution: { type: 'string' }, batch: { type: 'string', default: '1' },
    threads: { type: 'string', default: '1' }, runs: { type: 'string', default: '20' }, warmup: { type: 'string', default: '5' },
  },
});
if (!values.model || !values.resolution) {
  process.stderr.write('usage: node ort-profile.mjs --model FILE.onnx --resolution N [--batch B] [--threads T] [--runs R]\n');
  process.exit(2);
}
const [resolution, batch, threads, runs, warmup] = ['resolution', 'batch', 'threads', 'runs', 'warmup'].map((k) => Number(values[k]));

// The settings of ort-latency.mjs, with ONNX Runtime's profiler writing its trace into a scratch folder.
const scratch = mkdtempSync(join(tmpdir(), 'ort-profile-'));
const session = await ort.InferenceSession.create(values.model, {
  executionProviders: ['cpu'], graphOptimizationLevel: 'all', intraOpNumThreads: threads, interOpNumThreads: 1,
  executionMode: 'sequential', enableProfiling: true, profileFilePrefix: join(scratch, 'trace'),
});
const data = new Float32Array(batch * 3 * resolution * resolution);
for (let i = 0; i < data.length; i++) data[i] = ((i * 2654435761) % 1000) / 1000 - 0.5;
const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', data, [batch, 3, resolution, resolution]) };
for (let i = 0; i < warmup + runs; i++) await session.run(feeds);
await session.release(); // writes the trace

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
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
console.log(`ONNX Runtime ${ort.env.versions.common} profile of ${values.model}, ${threads} thread(s), batch ${batch}, ${runs} runs (median per node, ms)`);
for (const [name, { op, times }] of nodes) {
  const ms = median(times.slice(-runs));
  byOp.set(op, (byOp.get(op) ?? 0) + ms);
  console.log(`${name.slice(-70).padEnd(70)} ${op.padEnd(20)} ${ms.toFixed(3).padStart(8)}`);
}
console.log(`\nmodel run (profiled, so slower than ort-latency.mjs): ${median(runTimes.slice(-runs)).toFixed(2)} ms`);
for (const [op, ms] of [...byOp].sort((a, b) => b[1] - a[1])) console.log(`${op.padEnd(24)} ${ms.toFixed(3).padStart(8)}`);

