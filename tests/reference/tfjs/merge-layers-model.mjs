#!/usr/bin/env node
// Writes a small TensorFlow.js layers model that uses Keras's merge and reshaping layers (Concatenate on three axes,
// Maximum, Minimum, Average, UpSampling2D 'nearest', Cropping2D, SeparableConv2D,
// LeakyReLU, ELU, selu, LayerNormalization, Conv2DTranspose, softplus, hard_sigmoid, gelu, PReLU, Permute, Reshape with -1), with seeded weights, and runs it.
// usage: node merge-layers-model.mjs --out DIR [--seed S]
// DIR gets model.json + weights.bin (tfjs-layers' own model.save through tf.io.withSaveHandler), input.npy (seeded,
// NHWC), output.npy (tfjs's predict) and one <layer>.npy per layer output, so a loader's model can be compared
// layer by layer. UpSampling2D 'bilinear' is left out: tfjs resizes without half-pixel centres, unlike Keras's
// tf.image.resize, so it is no reference for Keras there; tfjs-layers has no Subtract; and its Concatenate joins
// the last axis for a negative axis other than -1 (axis -2 of NHWC gave channels), so the columns use axis 2; its
// SeparableConv2D config omits depth_multiplier (a saved multiplier-2 layer reads back as 1), so the multiplier is 1.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { fail, parseCli } from './common.mjs';
import { writeNpy } from './npy.mjs';
import { hashSeed, mulberry32, uniformArray } from './random.mjs';

const args = parseCli({ out: { type: 'string' }, seed: { type: 'string' } }, ['out'], 'node merge-layers-model.mjs --out DIR [--seed S]');
const seed = args.seed === undefined ? 1 : Number(args.seed);
if (!Number.isInteger(seed) || seed < 0) fail('--seed must be a non-negative integer');

const input = tf.input({ shape: [9, 7, 3], name: 'input' });
const a = tf.layers.conv2d({ filters: 5, kernelSize: 3, padding: 'same', name: 'conv_a' }).apply(input);
const b = tf.layers.conv2d({ filters: 5, kernelSize: 1, name: 'conv_b' }).apply(input);
const c = tf.layers.conv2d({ filters: 5, kernelSize: 3, padding: 'same', activation: 'relu', name: 'conv_c' }).apply(input);
const largest = tf.layers.maximum({ name: 'largest' }).apply([a, b, c]);
const smallest = tf.layers.minimum({ name: 'smallest' }).apply([a, c]);
const mean = tf.layers.average({ name: 'mean' }).apply([a, b, c]);
const channels = tf.layers.concatenate({ name: 'concat_channels' }).apply([a, largest, smallest, input]);
const rows = tf.layers.concatenate({ axis: 1, name: 'concat_rows' }).apply([mean, b]);
const columns = tf.layers.concatenate({ axis: 2, name: 'concat_columns' }).apply([mean, c]);
const up = tf.layers.upSampling2d({ size: [2, 3], name: 'up' }).apply(channels);
const cropped = tf.layers.cropping2D({ cropping: [[1, 2], [0, 3]], name: 'crop' }).apply(up);
const squeezed = tf.layers.conv2d({ filters: 4, kernelSize: 1, name: 'mix' }).apply(cropped);
const rowsUp = tf.layers.upSampling2d({ size: [2, 2], name: 'rows_up' }).apply(rows);
const rowsCropped = tf.layers.cropping2D({ cropping: [[1, 1], [1, 1]], name: 'rows_crop' }).apply(rowsUp);
const columnsCropped = tf.layers.cropping2D({ cropping: [[0, 0], [7, 0]], name: 'columns_crop' }).apply(columns);
const pooledA = tf.layers.globalAveragePooling2d({ name: 'pool_a' }).apply(squeezed);
const pooledB = tf.layers.globalAveragePooling2d({ name: 'pool_b' }).apply(rowsCropped);
const pooledC = tf.layers.globalMaxPooling2d({ name: 'pool_c' }).apply(columnsCropped);
const separable = tf.layers.separableConv2d({
  filters: 6, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', name: 'separable',
}).apply(input);
const separableDilated = tf.layers.separableConv2d({
  filters: 4, kernelSize: [3, 2], dilationRate: 2, useBias: false, name: 'separable_dilated',
}).apply(input);
const pooledD = tf.layers.globalAveragePooling2d({ name: 'pool_d' }).apply(separable);
const pooledE = tf.layers.globalMaxPooling2d({ name: 'pool_e' }).apply(separableDilated);
const leaky = tf.layers.leakyReLU({ alpha: 0.1, name: 'leaky' }).apply(a);
const elu = tf.layers.elu({ name: 'elu' }).apply(b); // tfjs's ELU refuses alpha other than 1
const selu = tf.layers.activation({ activation: 'selu', name: 'selu' }).apply(c);
const activations = tf.layers.concatenate({ name: 'activations' }).apply([leaky, elu, selu]);
const normalized = tf.layers.layerNormalization({ epsilon: 1e-2, name: 'layer_norm' }).apply(activations);
const pooledF = tf.layers.globalAveragePooling2d({ name: 'pool_f' }).apply(normalized);
// Transposed convolutions: 'same' at stride 2, and 'valid' with a kernel narrower than its stride (gaps between windows).
const upConv = tf.layers.conv2dTranspose({ filters: 4, kernelSize: 3, strides: 2, padding: 'same', activation: 'softplus', name: 'up_conv' }).apply(a);
const gapConv = tf.layers.conv2dTranspose({ filters: 3, kernelSize: [2, 3], strides: [3, 2], useBias: false, name: 'gap_conv' }).apply(input);
const hardSigmoid = tf.layers.activation({ activation: 'hardSigmoid', name: 'hard_sigmoid' }).apply(gapConv);
const gelu = tf.layers.activation({ activation: 'gelu', name: 'gelu' }).apply(upConv);
const pooledG = tf.layers.globalAveragePooling2d({ name: 'pool_g' }).apply(gelu);
const pooledH = tf.layers.globalMaxPooling2d({ name: 'pool_h' }).apply(hardSigmoid);
// PReLU with one slope per channel and one per element; Permute (height <-> width, channels first); Reshape with -1.
const prelu = tf.layers.prelu({ sharedAxes: [1, 2], name: 'prelu' }).apply(b);
const preluFull = tf.layers.prelu({ name: 'prelu_full' }).apply(c);
const permuted = tf.layers.permute({ dims: [2, 1, 3], name: 'permute' }).apply(prelu);
const channelsFirst = tf.layers.permute({ dims: [3, 1, 2], name: 'channels_first' }).apply(preluFull);
const reshaped = tf.layers.reshape({ targetShape: [-1, 3, 5], name: 'reshape' }).apply(permuted);
const pooledI = tf.layers.globalAveragePooling2d({ name: 'pool_i' }).apply(reshaped);
const pooledJ = tf.layers.globalMaxPooling2d({ name: 'pool_j' }).apply(channelsFirst);
const output = tf.layers.concatenate({ name: 'features' }).apply([pooledA, pooledB, pooledC, pooledD, pooledE, pooledF, pooledG, pooledH, pooledI, pooledJ]);
const model = tf.model({ inputs: input, outputs: output, name: 'merge_layers' });

for (const w of model.weights) {
  const rng = mulberry32(hashSeed(w.name, seed));
  w.write(tf.tensor(uniformArray(rng, w.shape.reduce((p, d) => p * d, 1), -1, 1), w.shape));
}

mkdirSync(args.out, { recursive: true });
let artifacts;
await model.save(tf.io.withSaveHandler(async (saved) => {
  artifacts = saved;
  return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
}));
const weightData = new Uint8Array(Array.isArray(artifacts.weightData) ? tf.io.CompositeArrayBuffer.join(artifacts.weightData) : artifacts.weightData);
writeFileSync(join(args.out, 'weights.bin'), weightData);
writeFileSync(join(args.out, 'model.json'), JSON.stringify({
  modelTopology: artifacts.modelTopology,
  format: artifacts.format,
  generatedBy: artifacts.generatedBy,
  convertedBy: artifacts.convertedBy ?? null,
  weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
}));

const x = tf.tensor(uniformArray(mulberry32(hashSeed('input', seed)), 2 * 9 * 7 * 3, -2, 2), [2, 9, 7, 3]);
writeNpy(join(args.out, 'input.npy'), x.dataSync(), x.shape);
const layerNames = model.layers.filter((l) => l.name !== 'input').map((l) => l.name);
const probe = tf.model({ inputs: model.inputs, outputs: layerNames.map((n) => model.getLayer(n).output) });
const outputs = probe.predict(x);
layerNames.forEach((name, i) => writeNpy(join(args.out, `${name}.npy`), outputs[i].dataSync(), outputs[i].shape));
writeNpy(join(args.out, 'output.npy'), model.predict(x).dataSync(), output.shape.map((d) => d ?? 2));
