#!/usr/bin/env node
// Writes small TensorFlow.js layers models (model.json + binary shards) for the NativeCnn TF.js weight-loader tests.
// usage: node save-tfjs-model.mjs --out DIR [--seed S]
//
// One Keras-style model (Conv2D, BatchNormalization, DepthwiseConv2D, GlobalAveragePooling2D, Dense) with seeded
// weights is saved four ways, each in DIR/<variant>/:
//   float32  tfjs-layers' own model.save through tf.io.withSaveHandler: the modelTopology is what tfjs writes (the
//            Keras config with keras_version/backend beside it, trainable weights before the BN moving
//            statistics); the weight data is cut into 300-byte shards so conv/kernel and dw/depthwise_kernel
//            straddle shard files.
//   uint8, uint16, float16
//            the same weights quantized by this script as the tfjs converter does (tensorflowjs/quantization.py:
//            affine uint8/uint16 with the range nudged so that 0 is exact, numpy round-half-even, a constant weight
//            stored as scale 1, q 0, min = value; float16 by IEEE round-to-nearest-even). tfjs itself has no
//            quantizing saver, so the bytes are written here. These variants use the converter's topology wrapping
//            ({keras_version, backend, model_config}), two manifest groups and 100-byte shards.
// Every variant also gets expected/<layer>__<weight>.npy: the values tfjs's own decoder (tf.io.decodeWeights)
// produces from the written bytes and manifest, i.e. what a loader must return.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { fail, parseCli, weightFileName } from './common.mjs';
import { writeNpy } from './npy.mjs';
import { hashSeed, mulberry32, uniformArray } from './random.mjs';

const args = parseCli({ out: { type: 'string' }, seed: { type: 'string' } }, ['out'], 'node save-tfjs-model.mjs --out DIR [--seed S]');
const seed = args.seed === undefined ? 1 : Number(args.seed);
if (!Number.isInteger(seed) || seed < 0) fail('--seed must be a non-negative integer');

function buildModel() {
  const input = tf.input({ shape: [7, 5, 3], name: 'input' });
  let x = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'conv' }).apply(input);
  x = tf.layers.batchNormalization({ name: 'bn' }).apply(x);
  x = tf.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', name: 'dw' }).apply(x);
  x = tf.layers.globalAveragePooling2d({ name: 'pool' }).apply(x);
  const output = tf.layers.dense({ units: 5, name: 'predictions' }).apply(x);
  return tf.model({ inputs: input, outputs: output, name: 'tiny' });
}

/** Seeded values per weight; dw/bias is constant to exercise the converter's single-value quantization case. */
function seededValues(name, count) {
  const rng = mulberry32(hashSeed(name, seed));
  if (name === 'dw/bias') return new Float32Array(count).fill(0.125);
  if (name === 'bn/moving_variance') return uniformArray(rng, count, 0.5, 1.5);
  if (name === 'bn/gamma') return uniformArray(rng, count, 0.5, 1.5);
  return uniformArray(rng, count, -1, 1);
}

/** numpy's np.round: halves to even. */
function roundHalfEven(v) {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** tensorflowjs/quantization.py quantize_weights for uint8/uint16: returns { bytes, scale, min }. */
function quantizeAffine(data, bits) {
  const qmax = bits === 8 ? 255 : 65535;
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of data) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  const q = bits === 8 ? new Uint8Array(data.length) : new Uint16Array(data.length);
  if (lo === hi) return { bytes: new Uint8Array(q.buffer), scale: 1, min: lo };
  const scale = (hi - lo) / qmax;
  let nudgedMin = lo;
  let nudgedMax = hi;
  if (lo <= 0 && 0 <= hi) {
    nudgedMin = -roundHalfEven(-lo / scale) * scale;
    nudgedMax = qmax * scale + nudgedMin;
  }
  for (let i = 0; i < data.length; i++) {
    const clipped = Math.min(Math.max(data[i], nudgedMin), nudgedMax);
    q[i] = roundHalfEven((clipped - nudgedMin) / scale);
  }
  return { bytes: new Uint8Array(q.buffer), scale, min: nudgedMin };
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
/** float32 → IEEE half bits, round to nearest even (numpy astype(float16)). */
function halfBits(value) {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 112;
  if (e >= 0x1f) return sign | 0x7c00;
  let shift = 13;
  let half;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    shift = 14 - e;
    half = mant >>> shift;
  } else {
    half = (e << 10) | (mant >>> 13);
  }
  const rem = mant & ((1 << shift) - 1);
  const mid = 1 << (shift - 1);
  if (rem > mid || (rem === mid && (half & 1))) half++; // a carry into the exponent is still correct
  return sign | half;
}

function quantizeFloat16(data) {
  const q = new Uint16Array(data.length);
  for (let i = 0; i < data.length; i++) q[i] = halfBits(data[i]);
  return new Uint8Array(q.buffer);
}

function concat(chunks) {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const c of chunks) { out.set(c, offset); offset += c.length; }
  return out;
}

/** Cuts one group's bytes into shards of at most `size` bytes, named as the converter does. */
function writeShards(dir, groupIndex, bytes, size) {
  const count = Math.max(1, Math.ceil(bytes.length / size));
  const paths = [];
  for (let i = 0; i < count; i++) {
    const name = `group${groupIndex}-shard${i + 1}of${count}.bin`;
    writeFileSync(join(dir, name), bytes.subarray(i * size, Math.min(bytes.length, (i + 1) * size)));
    paths.push(name);
  }
  return paths;
}

/** Decodes with tfjs's own loader code and writes one float32 .npy per weight. */
function writeExpected(dir, groups) {
  const expectedDir = join(dir, 'expected');
  mkdirSync(expectedDir, { recursive: true });
  for (const { bytes, specs } of groups) {
    const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length);
    const decoded = tf.io.decodeWeights(buffer, specs);
    for (const spec of specs) writeNpy(join(expectedDir, weightFileName(spec.name)), decoded[spec.name].dataSync(), spec.shape);
  }
}

const model = buildModel();
model.setWeights(model.weights.map((w) => tf.tensor(seededValues(w.originalName, w.shape.reduce((a, d) => a * d, 1)), w.shape)));

// tfjs's own save: capture its artifacts instead of writing through a browser or file handler.
let artifacts;
await model.save(tf.io.withSaveHandler(async (a) => {
  artifacts = a;
  return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
}));
const weightData = new Uint8Array(Array.isArray(artifacts.weightData) ? tf.io.CompositeArrayBuffer.join(artifacts.weightData) : artifacts.weightData);
const specs = artifacts.weightSpecs;
if (specs.length !== 10) fail(`expected 10 weights, tfjs saved ${specs.length}`);

{
  const dir = join(args.out, 'float32');
  mkdirSync(dir, { recursive: true });
  const paths = writeShards(dir, 1, weightData, 300);
  if (paths.length < 2) fail('the float32 variant should span several shards');
  const modelJson = {
    modelTopology: artifacts.modelTopology,
    format: artifacts.format,
    generatedBy: artifacts.generatedBy,
    convertedBy: artifacts.convertedBy ?? null,
    weightsManifest: [{ paths, weights: specs }],
  };
  writeFileSync(join(dir, 'model.json'), JSON.stringify(modelJson));
  writeExpected(dir, [{ bytes: weightData, specs }]);
}

// Per-weight float32 values, in manifest order, from tfjs's own bytes.
const values = [];
{
  let offset = 0;
  for (const spec of specs) {
    const count = spec.shape.reduce((a, d) => a * d, 1);
    values.push(new Float32Array(weightData.buffer.slice(weightData.byteOffset + offset, weightData.byteOffset + offset + 4 * count)));
    offset += 4 * count;
  }
}

const { class_name: className, config, keras_version: kerasVersion, backend } = artifacts.modelTopology;
for (const variant of ['uint8', 'uint16', 'float16']) {
  const dir = join(args.out, variant);
  mkdirSync(dir, { recursive: true });
  const quantized = specs.map((spec, i) => {
    if (variant === 'float16') return { spec: { ...spec, quantization: { dtype: 'float16', original_dtype: 'float32' } }, bytes: quantizeFloat16(values[i]) };
    const { bytes, scale, min } = quantizeAffine(values[i], variant === 'uint8' ? 8 : 16);
    return { spec: { ...spec, quantization: { dtype: variant, scale, min, original_dtype: 'float32' } }, bytes };
  });
  // Two groups (the converter makes several with split_weights_by_layer): the first six weights, then the rest.
  const groups = [quantized.slice(0, 6), quantized.slice(6)].map((part) => ({ bytes: concat(part.map((p) => p.bytes)), specs: part.map((p) => p.spec) }));
  const weightsManifest = groups.map((g, i) => ({ paths: writeShards(dir, i + 1, g.bytes, 100), weights: g.specs }));
  const modelJson = {
    format: 'layers-model',
    generatedBy: artifacts.generatedBy,
    convertedBy: 'TensorFlow.js Converter v4.22.0',
    modelTopology: { keras_version: kerasVersion, backend, model_config: { class_name: className, config } },
    weightsManifest,
  };
  writeFileSync(join(dir, 'model.json'), JSON.stringify(modelJson));
  writeExpected(dir, groups);
}
model.dispose();
process.stdout.write(`wrote float32, uint8, uint16 and float16 variants to ${args.out}\n`);
