// What ort-latency.mjs and ort-profile.mjs share: their arguments, the session settings of a tuned deployment, the
// seeded input, and a median.

import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';

/** --model FILE.onnx --resolution N [--batch B] [--threads T] [--runs R] [--warmup W], as numbers; exits with usage when incomplete. */
export function modelArguments(script, defaultWarmup) {
  const { values } = parseArgs({
    options: {
      model: { type: 'string' }, resolution: { type: 'string' }, batch: { type: 'string', default: '1' },
      threads: { type: 'string', default: '1' }, runs: { type: 'string', default: '20' },
      warmup: { type: 'string', default: String(defaultWarmup) },
    },
  });
  if (!values.model || !values.resolution) {
    process.stderr.write(`usage: node ${script} --model FILE.onnx --resolution N [--batch B] [--threads T] [--runs R] [--warmup W]\n`);
    process.exit(2);
  }
  const [resolution, batch, threads, runs, warmup] = ['resolution', 'batch', 'threads', 'runs', 'warmup'].map((k) => Number(values[k]));
  return { model: values.model, resolution, batch, threads, runs, warmup };
}

/** The CPU session with all graph optimizations, a fixed intra-op pool and no inter-op parallelism, plus `extra` options. */
export function createSession(args, extra = {}) {
  return ort.InferenceSession.create(args.model, {
    executionProviders: ['cpu'], graphOptimizationLevel: 'all', intraOpNumThreads: args.threads, interOpNumThreads: 1,
    executionMode: 'sequential', ...extra,
  });
}

/** The same seeded NCHW input every run and every script uses. */
export function seededFeeds(session, args) {
  const data = new Float32Array(args.batch * 3 * args.resolution * args.resolution);
  for (let i = 0; i < data.length; i++) data[i] = ((i * 2654435761) % 1000) / 1000 - 0.5;
  return { [session.inputNames[0]]: new ort.Tensor('float32', data, [args.batch, 3, args.resolution, args.resolution]) };
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b), middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

export { ort };
