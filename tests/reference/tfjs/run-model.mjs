#!/usr/bin/env node
// Runs a Keras-equivalent TensorFlow.js model on an NHWC float32 .npy input with weights from a weight directory.
// usage: node run-model.mjs --arch NAME [--alpha A] [--resolution N] [--depth-multiplier M] [--minimalistic] --weights DIR --input x.npy --output y.npy
//                           [--activations a,b --dump-dir D]

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fail, loadWeightsDir, MODEL_OPTIONS, modelFromCli, parseCli } from './common.mjs';
import { tf } from './keras-apps.mjs';
import { readNpy, writeNpy } from './npy.mjs';

const USAGE = 'node run-model.mjs --arch NAME [--alpha A] [--resolution N] [--depth-multiplier M] [--minimalistic] --weights DIR --input x.npy --output y.npy '
  + '[--activations a,b --dump-dir D]';

const args = parseCli({
  ...MODEL_OPTIONS,
  weights: { type: 'string' },
  input: { type: 'string' },
  output: { type: 'string' },
  activations: { type: 'string' },
  'dump-dir': { type: 'string' },
}, ['arch', 'weights', 'input', 'output'], USAGE);

if ((args.activations === undefined) !== (args['dump-dir'] === undefined)) fail('--activations and --dump-dir go together');

const t0 = performance.now();
let input;
try {
  input = readNpy(args.input);
} catch (e) {
  fail(e.message);
}
if (input.shape.length !== 4 || input.shape[0] < 1 || input.shape[3] !== 3) {
  fail(`input must be NHWC with batch >= 1 and 3 channels, got shape (${input.shape})`);
}
const { model } = modelFromCli(args, [input.shape[1], input.shape[2]]);
const t1 = performance.now();
const { loaded, defaulted } = loadWeightsDir(model, args.weights);
if (defaulted.length > 0) process.stderr.write(`note: using built-in ImageNet values for ${defaulted.join(', ')}\n`);
const t2 = performance.now();

const names = args.activations === undefined ? [] : args.activations.split(',').map((s) => s.trim()).filter((s) => s);
const taps = names.map((n) => {
  try {
    return model.getLayer(n).output;
  } catch {
    return fail(`--activations: the model has no layer named '${n}'`);
  }
});
// One forward pass returns the model output plus every requested layer output.
const runner = taps.length === 0 ? model : tf.model({ inputs: model.inputs, outputs: [model.outputs[0], ...taps] });
const x = tf.tensor4d(input.data, input.shape, 'float32');
const result = runner.predict(x, { batchSize: input.shape[0] });
const outputs = Array.isArray(result) ? result : [result];
const t3 = performance.now();

const save = (path, t) => writeNpy(path, t.dataSync(), t.shape);
save(args.output, outputs[0]);
if (taps.length > 0) {
  mkdirSync(args['dump-dir'], { recursive: true });
  names.forEach((n, i) => save(join(args['dump-dir'], `${n}.npy`), outputs[i + 1]));
}
const t4 = performance.now();
process.stderr.write(`${model.name}: ${loaded} weights loaded; output (${outputs[0].shape}); `
  + `build ${(t1 - t0).toFixed(0)} ms, load ${(t2 - t1).toFixed(0)} ms, predict ${(t3 - t2).toFixed(0)} ms, `
  + `write ${(t4 - t3).toFixed(0)} ms (backend ${tf.getBackend()})\n`);
