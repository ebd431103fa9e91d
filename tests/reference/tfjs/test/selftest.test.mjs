// End-to-end self-test of the CLIs: seeded random weights -> run-model on a random input, for the configurations the
// C# tests compare against, plus the weight-directory error paths. Prints the wall time of each run.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, renameSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { readNpy, writeNpy } from '../npy.mjs';

const here = fileURLToPath(new URL('..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'tfjs-ref-'));
after(() => rmSync(work, { recursive: true, force: true }));

function node(script, args) {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [join(here, script), ...args], { encoding: 'utf8' });
  return { ...r, seconds: (performance.now() - t0) / 1000 };
}

function ok(script, args) {
  const r = node(script, args);
  assert.equal(r.status, 0, `${script} ${args.join(' ')} failed:\n${r.stderr}`);
  return r;
}

function checkSoftmax(path, batch) {
  const y = readNpy(path);
  assert.deepEqual(y.shape, [batch, 1000]);
  for (let b = 0; b < batch; b++) {
    const row = y.data.subarray(b * 1000, (b + 1) * 1000);
    assert.ok(row.every(Number.isFinite), 'finite output');
    const sum = row.reduce((a, v) => a + v, 0);
    assert.ok(Math.abs(sum - 1) < 1e-4, `softmax row ${b} sums to ${sum}`);
    assert.ok(Math.max(...row) < 0.999, 'random-weight softmax is not one-hot');
  }
  return y;
}

const CONFIGS = [
  { arch: 'efficientnet-b0', res: 224, taps: { stem_activation: [1, 112, 112, 32], block6d_add: [1, 7, 7, 192], avg_pool: [1, 1280] } },
  { arch: 'mobilenetv2', alpha: '1.0', res: 224, taps: { block_1_pad: [1, 113, 113, 96], out_relu: [1, 7, 7, 1280] } },
  { arch: 'mobilenetv2', alpha: '0.35', res: 96, taps: { Conv1_relu: [1, 48, 48, 16], block_16_project_BN: [1, 3, 3, 112] } },
  { arch: 'resnet50', res: 224, taps: { pool1_pool: [1, 56, 56, 64], conv5_block3_out: [1, 7, 7, 2048] } },
];

for (const c of CONFIGS) {
  const tag = `${c.arch}${c.alpha ? `-${c.alpha}` : ''}-${c.res}`;
  test(`${tag}: random weights run end to end`, (t) => {
    const model = [`--arch`, c.arch, ...(c.alpha ? ['--alpha', c.alpha] : [])];
    const dir = join(work, tag);
    const gen = ok('make-random-weights.mjs', [...model, '--resolution', String(c.res), '--out', dir, '--seed', '7']);
    ok('make-random-input.mjs', ['--arch', c.arch, '--resolution', String(c.res), '--out', `${dir}.x.npy`, '--seed', '3']);
    const run = ok('run-model.mjs', [...model, '--weights', dir, '--input', `${dir}.x.npy`, '--output', `${dir}.y.npy`,
      '--activations', Object.keys(c.taps).join(','), '--dump-dir', `${dir}.acts`]);
    checkSoftmax(`${dir}.y.npy`, 1);
    for (const [name, shape] of Object.entries(c.taps)) {
      const a = readNpy(join(`${dir}.acts`, `${name}.npy`));
      assert.deepEqual(a.shape, shape, name);
      const maxAbs = a.data.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      assert.ok(maxAbs > 0.1 && maxAbs < 100, `${name} stays O(1): max |x| = ${maxAbs}`);
    }
    t.diagnostic(`${tag}: make-random-weights ${gen.seconds.toFixed(1)} s, run-model ${run.seconds.toFixed(1)} s `
      + `(${run.stderr.trim().split('\n').pop()})`);
  });
}

test('mobilenetv2 0.35: batch and non-square input, batch rows match single runs', () => {
  const dir = join(work, 'm035');
  ok('make-random-weights.mjs', ['--arch', 'mobilenetv2', '--alpha', '0.35', '--resolution', '96', '--out', dir]);
  ok('make-random-input.mjs', ['--arch', 'mobilenetv2', '--height', '97', '--width', '64', '--batch', '2', '--out', `${dir}.x2.npy`]);
  const args = ['--arch', 'mobilenetv2', '--alpha', '0.35', '--weights', dir];
  ok('run-model.mjs', [...args, '--input', `${dir}.x2.npy`, '--output', `${dir}.y2.npy`]);
  const y2 = checkSoftmax(`${dir}.y2.npy`, 2);
  const x2 = readNpy(`${dir}.x2.npy`);
  const one = x2.data.length / 2;
  writeNpy(`${dir}.x1.npy`, x2.data.subarray(one), [1, 97, 64, 3]);
  ok('run-model.mjs', [...args, '--input', `${dir}.x1.npy`, '--output', `${dir}.y1.npy`]);
  const y1 = readNpy(`${dir}.y1.npy`);
  for (let i = 0; i < 1000; i++) assert.ok(Math.abs(y1.data[i] - y2.data[1000 + i]) <= 1e-6, `class ${i}`);
});

test('make-random-weights is deterministic per seed', () => {
  const gen = (name, seed) => ok('make-random-weights.mjs', ['--arch', 'mobilenetv2', '--alpha', '0.35', '--resolution', '96',
    '--out', join(work, name), '--seed', seed]);
  gen('s1a', '5');
  gen('s1b', '5');
  gen('s2', '6');
  const file = 'block_3_depthwise_BN__moving_variance.npy';
  const read = (name) => readFileSync(join(work, name, file));
  assert.ok(read('s1a').equals(read('s1b')));
  assert.ok(!read('s1a').equals(read('s2')));
});

test('run-model rejects missing, unused and mis-shaped weight files, naming them', () => {
  const src = join(work, 'errs-src');
  ok('make-random-weights.mjs', ['--arch', 'mobilenetv2', '--alpha', '0.35', '--resolution', '96', '--out', src]);
  ok('make-random-input.mjs', ['--arch', 'mobilenetv2', '--resolution', '96', '--out', `${src}.x.npy`]);
  const run = (dir) => node('run-model.mjs', ['--arch', 'mobilenetv2', '--alpha', '0.35', '--weights', dir,
    '--input', `${src}.x.npy`, '--output', join(work, 'unused.npy')]);
  const variant = (name, change) => {
    const dir = join(work, name);
    cpSync(src, dir, { recursive: true });
    change(dir);
    return run(dir);
  };

  let r = variant('missing', (d) => unlinkSync(join(d, 'block_5_project__kernel.npy')));
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /missing weight block_5_project\/kernel/);

  r = variant('extra', (d) => writeNpy(join(d, 'block_5_project__bias.npy'), new Float32Array(16), [16]));
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /unused file block_5_project__bias\.npy/);

  r = variant('renamed', (d) => renameSync(join(d, 'predictions__bias.npy'), join(d, 'predictions__biases.npy')));
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /missing weight predictions\/bias/);
  assert.match(r.stderr, /unused file predictions__biases\.npy/);

  r = variant('shape', (d) => writeNpy(join(d, 'Conv1__kernel.npy'), new Float32Array(3 * 3 * 3 * 8), [3, 3, 3, 8]));
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /weight Conv1\/kernel: file shape \[3,3,3,8\] but the model needs \[3,3,3,16\]/);

  r = node('run-model.mjs', ['--arch', 'mobilenetv2', '--alpha', '0.35', '--weights', src, '--input', `${src}.x.npy`,
    '--output', join(work, 'unused.npy'), '--activations', 'nope', '--dump-dir', join(work, 'acts')]);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /no layer named 'nope'/);
});

test('EfficientNet normalization weights are optional and, when present, used', () => {
  // A tiny input keeps this fast: EfficientNet-B0 at 32x32 still has every layer.
  const dir = join(work, 'b0small');
  ok('make-random-weights.mjs', ['--arch', 'efficientnet-b0', '--resolution', '32', '--out', dir]);
  ok('make-random-input.mjs', ['--arch', 'efficientnet-b0', '--resolution', '32', '--out', `${dir}.x.npy`]);
  const run = (out) => ok('run-model.mjs', ['--arch', 'efficientnet-b0', '--weights', dir, '--input', `${dir}.x.npy`,
    '--output', out, '--activations', 'normalization', '--dump-dir', `${out}.acts`]);
  run(`${dir}.with.npy`);
  for (const w of ['mean', 'variance', 'count']) unlinkSync(join(dir, `normalization__${w}.npy`));
  const r = run(`${dir}.without.npy`);
  assert.match(r.stderr, /using built-in ImageNet values for normalization\/mean, normalization\/variance, normalization\/count/);
  const a = readNpy(join(`${dir}.with.npy.acts`, 'normalization.npy')).data;
  const b = readNpy(join(`${dir}.without.npy.acts`, 'normalization.npy')).data;
  assert.ok(a.some((v, i) => v !== b[i]), 'the perturbed statistics from the files change the output');
  // Without files: (x/255 - mean) / sqrt(var) with the ImageNet constants.
  const x = readNpy(`${dir}.x.npy`).data;
  const mean = [0.485, 0.456, 0.406];
  const variance = [0.229, 0.224, 0.225];
  for (let i = 0; i < 300; i++) {
    const c = i % 3;
    const expected = (Math.fround(x[i] * Math.fround(1 / 255)) - mean[c]) / Math.sqrt(variance[c]);
    assert.ok(Math.abs(b[i] - expected) < 1e-5, `element ${i}: ${b[i]} vs ${expected}`);
  }
});
