#!/usr/bin/env node
// Writes a seeded random NHWC float32 .npy input, uniform in the value range each family expects after Keras
// preprocessing (see inputRange in random.mjs).
// usage: node make-random-input.mjs --arch NAME --out x.npy [--resolution N | --height H --width W] [--batch B] [--seed S]

import { fail, parseCli } from './common.mjs';
import { ARCHS, defaultResolution } from './keras-apps.mjs';
import { writeNpy } from './npy.mjs';
import { hashSeed, inputRange, mulberry32, uniformArray } from './random.mjs';

const args = parseCli({
  arch: { type: 'string' }, out: { type: 'string' }, resolution: { type: 'string' }, height: { type: 'string' },
  width: { type: 'string' }, batch: { type: 'string' }, seed: { type: 'string' },
}, ['arch', 'out'],
'node make-random-input.mjs --arch NAME --out x.npy [--resolution N | --height H --width W] [--batch B] [--seed S]');
const arch = args.arch.toLowerCase();
if (!ARCHS.includes(arch)) fail(`unknown --arch '${args.arch}'; expected one of ${ARCHS.join(', ')}`);
const int = (text, fallback, what) => {
  const v = text === undefined ? fallback : Number(text);
  if (!Number.isInteger(v) || v < 1) fail(`${what} must be a positive integer`);
  return v;
};
const res = int(args.resolution, defaultResolution(arch), '--resolution');
const shape = [int(args.batch, 1, '--batch'), int(args.height, res, '--height'), int(args.width, res, '--width'), 3];
const [low, high] = inputRange(arch);
const seed = args.seed === undefined ? 1 : Number(args.seed);
const rng = mulberry32(hashSeed('input', seed));
writeNpy(args.out, uniformArray(rng, shape.reduce((a, d) => a * d, 1), low, high), shape);
process.stderr.write(`wrote input (${shape}) in [${low}, ${high}) to ${args.out}\n`);
