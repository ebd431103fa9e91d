#!/usr/bin/env node
// Median latency of one ONNX model in ONNX Runtime (CPU execution provider), printed as one JSON line.
// usage: node ort-latency.mjs --model FILE.onnx --resolution N [--batch B] [--threads T] [--runs R] [--warmup W]

import { createSession, median, modelArguments, ort, seededFeeds } from './ort-session.mjs';

const args = modelArguments('ort-latency.mjs', 3);
const session = await createSession(args);
const feeds = seededFeeds(session, args);

for (let i = 0; i < args.warmup; i++) await session.run(feeds);
const times = [];
for (let i = 0; i < args.runs; i++) {
  const start = process.hrtime.bigint();
  await session.run(feeds);
  times.push(Number(process.hrtime.bigint() - start) / 1e6);
}
process.stdout.write(`${JSON.stringify({ peer: 'onnxruntime', version: ort.env.versions.common, median_ms: median(times), min_ms: Math.min(...times), runs: args.runs })}\n`);
