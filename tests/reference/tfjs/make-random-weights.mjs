#!/usr/bin/env node
// Writes seeded random weights for a model in the weight-directory layout (one float32 .npy per Keras weight).
// usage: node make-random-weights.mjs --arch NAME [--alpha A] [--resolution N] [--depth-multiplier M] [--minimalistic]
//                                    --out DIR [--seed S]
//
// Each weight is drawn from its own stream, seeded from (seed, Keras weight name):
//   kernels             uniform(+-sqrt(3/fan_in)) (LeCun-uniform, variance 1/fan_in)
//   biases, beta        uniform(-0.1, 0.1)
//   gamma               uniform(0.5, 1.5); uniform(0.2, 0.5) for the BN that closes a residual branch, so the
//                       trunk does not grow block after block
//   normalization       the ImageNet mean/variance perturbed by a few percent, count 1000, so a reader that
//                       hard-codes the constants instead of loading them is caught
// Then the moving statistics are calibrated, so that every activation stays O(1) through the whole network whatever
// the depth, width and input range: one random image (same distribution as make-random-input.mjs, its own seed) is
// run layer by layer, and each BatchNormalization gets
//   moving_mean = batch mean + uniform(-0.1, 0.1) * batch std,  moving_variance = batch variance * uniform(0.7, 1.3)
// (always > 0), and the classifier kernel (`predictions`, or the 1x1 `conv_preds` / `logits` of MobileNet and
// MobileNetV3) is scaled so the logits have a standard deviation of 2 (a softmax that is neither flat nor one-hot).
// Calibration runs at min(resolution, 300) pixels to keep B4-B7 affordable; the statistics of the deepest layers shift
// with resolution and image, so expect activations of a few units, not exactly 1.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fail, MODEL_OPTIONS, modelFromCli, parseCli, weightFileName } from './common.mjs';
import { buildModel, EFFICIENTNET_MEAN, EFFICIENTNET_VARIANCE, tf } from './keras-apps.mjs';
import { writeNpy } from './npy.mjs';
import { hashSeed, inputRange, mulberry32, uniformArray } from './random.mjs';

const args = parseCli({ ...MODEL_OPTIONS, out: { type: 'string' }, seed: { type: 'string' } }, ['arch', 'out'],
  'node make-random-weights.mjs --arch NAME [--alpha A] [--resolution N] [--depth-multiplier M] [--minimalistic] --out DIR [--seed S]');
const seed = args.seed === undefined ? 1 : Number(args.seed);
if (!Number.isInteger(seed) || seed < 0) fail('--seed must be a non-negative integer');
const { arch, alpha, depthMultiplier, minimalistic, hw, model: described } = modelFromCli(args);
described.dispose();
const calibrationHw = hw.map((d) => Math.min(d, 300));
const model = buildModel(arch, { alpha, depthMultiplier, minimalistic, inputShape: [...calibrationHw, 3] });
const rngFor = (key) => mulberry32(hashSeed(key, seed));

// BatchNormalization layers that close a residual branch: for an Add named P+'add' (EfficientNet, MobileNet V2 and V3)
// or P+'_add' (ResNet) that is P+'project_bn', P+'project_BN' or P+'_3_bn'. ResNet v2's branches (Adds named P+'_out')
// end in a biased conv, not a BN, and the next block's preact_bn normalizes the sum.
const layerNames = new Set(model.layers.map((l) => l.name));
const addLayers = model.layers.filter((l) => l.getClassName() === 'Add' && !l.name.endsWith('_out'));
const residualBranchEnds = new Set();
for (const layer of addLayers) {
  const prefix = layer.name.slice(0, -'add'.length);
  for (const end of [`${prefix}project_bn`, `${prefix}project_BN`, `${prefix}3_bn`]) {
    if (layerNames.has(end)) residualBranchEnds.add(end);
  }
}
if (residualBranchEnds.size !== addLayers.length) fail('internal: could not find the residual branch of every Add layer');

function initial(layer, weightName, shape) {
  const rng = rngFor(`${layer.name}/${weightName}`);
  const count = shape.reduce((a, d) => a * d, 1);
  if (layer.name === 'normalization') {
    if (weightName === 'mean') return Float32Array.from(EFFICIENTNET_MEAN, (m) => m + 0.05 * (rng() - 0.5));
    if (weightName === 'variance') return Float32Array.from(EFFICIENTNET_VARIANCE, (v) => v * (0.95 + 0.1 * rng()));
    return Float32Array.of(1000);
  }
  switch (weightName) {
    case 'kernel':
    case 'depthwise_kernel': {
      // Conv2D (kh, kw, in, out) and Dense (in, out): fan_in is everything but the last axis;
      // DepthwiseConv2D (kh, kw, in, 1): each output sees kh*kw inputs.
      const fanIn = weightName === 'depthwise_kernel' ? shape[0] * shape[1] : count / shape[shape.length - 1];
      const limit = Math.sqrt(3 / fanIn);
      return uniformArray(rng, count, -limit, limit);
    }
    case 'gamma':
      return residualBranchEnds.has(layer.name) ? uniformArray(rng, count, 0.2, 0.5) : uniformArray(rng, count, 0.5, 1.5);
    case 'bias':
    case 'beta':
      return uniformArray(rng, count, -0.1, 0.1);
    case 'moving_mean':
      return new Float32Array(count); // calibrated below
    case 'moving_variance':
      return new Float32Array(count).fill(1); // calibrated below
    default:
      return fail(`no generator for weight ${layer.name}/${weightName}`);
  }
}

const values = new Map(); // Keras weight name -> Float32Array
for (const layer of model.layers) {
  if (layer.weights.length === 0) continue;
  const arrays = layer.weights.map((w) => {
    const data = initial(layer, w.originalName.slice(layer.name.length + 1), w.shape);
    values.set(w.originalName, data);
    return tf.tensor(data, w.shape, 'float32');
  });
  layer.setWeights(arrays);
  tf.dispose(arrays);
}

const CONV_CLASSIFIERS = new Set(['conv_preds', 'logits']);

// Calibration: eager layer-by-layer execution in topological order, freeing each output after its last consumer.
const [low, high] = inputRange(arch);
const calibrationInput = tf.tensor4d(
  uniformArray(rngFor('calibration-input'), calibrationHw[0] * calibrationHw[1] * 3, low, high), [1, ...calibrationHw, 3]);
const outputs = new Map();
const consumers = new Map();
for (const layer of model.layers) {
  for (const src of layer.inboundNodes.flatMap((n) => n.inboundLayers)) consumers.set(src.name, (consumers.get(src.name) ?? 0) + 1);
}
for (const layer of model.layers) {
  const sources = layer.inboundNodes.flatMap((n) => n.inboundLayers);
  if (sources.length === 0) {
    outputs.set(layer.name, calibrationInput);
    continue;
  }
  const inputs = sources.map((s) => outputs.get(s.name));
  const x = inputs.length === 1 ? inputs[0] : inputs;
  if (layer.getClassName() === 'BatchNormalization') {
    const [gamma, beta, mean, variance] = layer.weights.map((w) => values.get(w.originalName));
    const { mean: m, variance: v } = tf.tidy(() => tf.moments(x, [0, 1, 2]));
    const bm = m.dataSync();
    const bv = v.dataSync();
    tf.dispose([m, v]);
    const rng = rngFor(`${layer.name}/calibration`);
    for (let c = 0; c < mean.length; c++) {
      const batchVar = Math.max(bv[c], 1e-4);
      mean[c] = bm[c] + 0.2 * (rng() - 0.5) * Math.sqrt(batchVar);
      variance[c] = batchVar * (0.7 + 0.6 * rng());
    }
    layer.setWeights([gamma, beta, mean, variance].map((a) => tf.tensor1d(a)));
  } else if (CONV_CLASSIFIERS.has(layer.name)) {
    // MobileNet's conv_preds and MobileNetV3's logits: 1x1 convolutions with no activation, scaled like predictions.
    const kernel = values.get(`${layer.name}/kernel`);
    const bias = values.get(`${layer.name}/bias`);
    const [kernelShape, biasShape] = layer.weights.map((w) => w.shape);
    layer.setWeights([tf.tensor(kernel, kernelShape), tf.zeros(biasShape)]);
    const logits = layer.apply(x);
    const { variance: lv } = tf.moments(logits);
    const scale = 2 / Math.sqrt(lv.dataSync()[0]);
    tf.dispose([logits, lv]);
    for (let i = 0; i < kernel.length; i++) kernel[i] *= scale;
    layer.setWeights([tf.tensor(kernel, kernelShape), tf.tensor(bias, biasShape)]);
  } else if (layer.name === 'predictions' && layer.getClassName() === 'Dense') {
    const kernel = values.get('predictions/kernel');
    const bias = values.get('predictions/bias');
    const logits = tf.tidy(() => tf.add(tf.matMul(x, tf.tensor2d(kernel, layer.weights[0].shape)), tf.tensor1d(bias)));
    const { variance: lv } = tf.moments(logits);
    const scale = 2 / Math.sqrt(lv.dataSync()[0]);
    tf.dispose([logits, lv]);
    for (let i = 0; i < kernel.length; i++) kernel[i] *= scale;
    layer.setWeights([tf.tensor(kernel, layer.weights[0].shape), tf.tensor1d(bias)]);
  }
  const y = layer.apply(x);
  outputs.set(layer.name, y);
  for (const s of sources) {
    const left = consumers.get(s.name) - 1;
    consumers.set(s.name, left);
    if (left === 0) {
      outputs.get(s.name).dispose();
      outputs.delete(s.name);
    }
  }
}
for (const t of outputs.values()) t.dispose();

mkdirSync(args.out, { recursive: true });
let total = 0;
for (const w of model.weights) {
  const data = values.get(w.originalName);
  writeNpy(join(args.out, weightFileName(w.originalName)), data, w.shape);
  total += data.length;
}
process.stderr.write(`${arch}: wrote ${model.weights.length} weights (${total} values) to ${args.out}, `
  + `calibrated at ${calibrationHw.join('x')}\n`);
