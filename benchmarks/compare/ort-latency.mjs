#!/usr/bin/env node
// Median latency of one ONNX model in ONNX Runtime (CPU execution provider), printed as one JSON line.
// usage: node ort-latency.mjs --model FILE.onnx --resolution N [--batch B] [--threads T] [--runs R] [--warmup W]

import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';

const { values } = parseArgs({
  options: {
    model: { type: 'string' }, resolution: { type: 'string' }, batch: { type: 'string', default: '1' },
    threads: { type: 'string', default: '1' }, runs: { type: 'string', default: '20' }, warmup: { type: 'string', default: '3' },
  },
});
if (!values.model || !values.resolution) {
  process.stderr.write('usage: node ort-latency.mjs --model FILE.onnx --resolution N [--batch B] [--threads T] [--runs R]\n');
  process.exit(2);
}
const [resolution, batch, threads, runs, warmup] = ['resolution', 'batch', 'threads', 'runs', 'warmup'].map((k) => Number(values[k]));

// Same settings as a tuned deployment: all graph optimizations, a fixed intra-op pool, no inter-op parallelism.
const session = await ort.InferenceSession.create(values.model, {
  executionProviders: ['cpu'],
  graphOptimizationLevel: 'all',
  intraOpNumThreads: threads,
  interOpNumThreads: 1,
  executionMode: 'sequential',
});
const data = new Float32Array(batch * 3 * resolution * resolution);
for (let i = 0; i < data.length; i++) data[i] = ((i * 2654435761) % 1000) / 1000 - 0.5;
const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', data, [batch, 3, resolution, resolution]) };

for (let i = 0; i < warmup; i++) await session.run(feeds);
const times = [];
for (let i = 0; i < runs; i++) {
  const start = process.hrtime.bigint();
  await session.run(feeds);
  times.push(Number(process.hrtime.bigint() - start) / 1e6);
}
times.sort((a, b) => a - b);
const median = times.length % 2 ? times[(times.length - 1) / 2] : (times[times.length / 2 - 1] + times[times.length / 2]) / 2;
process.stdout.write(`${JSON.stringify({ peer: 'onnxruntime', version: ort.env.versions.common, median_ms: median, min_ms: times[0], runs })}\n`);
