// Shared CLI plumbing: argument parsing, model construction from CLI options, and the weight-directory convention.

import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ALPHA_ARCHS, buildModel, defaultResolution, ARCHS, tf } from './keras-apps.mjs';
import { readNpy } from './npy.mjs';

/** Prints the message to stderr and exits with the given code. */
export function fail(message, code = 2) {
  process.stderr.write(`error: ${message}\n`);
  process.exit(code);
}

/** Parses argv with node:util parseArgs; unknown options are fatal. `required` lists options that must be present. */
export function parseCli(options, required, usage) {
  let values;
  try {
    ({ values } = parseArgs({ options: { ...options, help: { type: 'boolean' } }, strict: true, allowPositionals: false }));
  } catch (e) {
    fail(`${e.message}\nusage: ${usage}`);
  }
  if (values.help) {
    process.stdout.write(`usage: ${usage}\n`);
    process.exit(0);
  }
  for (const r of required) if (values[r] === undefined) fail(`--${r} is required\nusage: ${usage}`);
  return values;
}

/** CLI options shared by every script that builds a model. */
export const MODEL_OPTIONS = {
  arch: { type: 'string' },
  alpha: { type: 'string' },
  resolution: { type: 'string' },
  'depth-multiplier': { type: 'string' },
  minimalistic: { type: 'boolean' },
};

function positiveNumber(text, what) {
  const v = Number(text);
  if (!Number.isFinite(v) || v <= 0) fail(`${what} must be a positive number, got '${text}'`);
  return v;
}

/**
 * Builds the model named by --arch/--alpha/--resolution/--depth-multiplier/--minimalistic. `inputHw` ([H, W]) comes from an input file when there is one;
 * --resolution, if also given, must agree with it.
 */
export function modelFromCli(values, inputHw) {
  const arch = values.arch.toLowerCase();
  if (!ARCHS.includes(arch)) fail(`unknown --arch '${values.arch}'; expected one of ${ARCHS.join(', ')}`);
  const alpha = values.alpha === undefined ? 1.0 : positiveNumber(values.alpha, '--alpha');
  if (values.alpha !== undefined && !ALPHA_ARCHS.includes(arch)) fail(`--alpha applies to ${ALPHA_ARCHS.join(', ')} only`);
  const depthMultiplier = values['depth-multiplier'] === undefined ? 1 : positiveNumber(values['depth-multiplier'], '--depth-multiplier');
  if (!Number.isInteger(depthMultiplier)) fail('--depth-multiplier must be an integer');
  if (values['depth-multiplier'] !== undefined && arch !== 'mobilenet') fail('--depth-multiplier applies to mobilenet only');
  const minimalistic = values.minimalistic ?? false;
  if (minimalistic && !arch.startsWith('mobilenetv3')) fail('--minimalistic applies to mobilenetv3small/mobilenetv3large only');
  let hw;
  if (values.resolution !== undefined) {
    const r = positiveNumber(values.resolution, '--resolution');
    if (!Number.isInteger(r)) fail('--resolution must be an integer');
    hw = [r, r];
    if (inputHw && (inputHw[0] !== r || inputHw[1] !== r)) {
      fail(`--resolution ${r} does not match the input's spatial size ${inputHw[0]}x${inputHw[1]}`);
    }
  } else {
    hw = inputHw ?? [defaultResolution(arch), defaultResolution(arch)];
  }
  return {
    arch, alpha, depthMultiplier, minimalistic, hw,
    model: buildModel(arch, { alpha, depthMultiplier, minimalistic, inputShape: [hw[0], hw[1], 3] }),
  };
}

/** File name of a Keras weight (`layer/weight`) in a weight directory: '/' becomes '__', plus '.npy'. */
export function weightFileName(kerasName) {
  return `${kerasName.replace(/\//g, '__')}.npy`;
}

/**
 * Loads every model weight from `dir` by Keras name and checks shapes. Normalization weights may be absent (the
 * builder's ImageNet defaults stay); every other weight must be present, and every .npy file in `dir` must be used.
 * Returns { loaded, defaulted }; on any problem prints all of them and exits non-zero.
 */
export function loadWeightsDir(model, dir) {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) fail(`weights directory '${dir}' does not exist`);
  const files = new Set(readdirSync(dir).filter((f) => f.endsWith('.npy')));
  const errors = [];
  const defaulted = [];
  const values = [];
  for (const w of model.weights) {
    const name = w.originalName;
    const file = weightFileName(name);
    if (!files.has(file)) {
      if (name.startsWith('normalization/')) {
        defaulted.push(name);
        values.push(w.read().clone());
      } else {
        errors.push(`missing weight ${name} (file ${file}, shape [${w.shape}])`);
        values.push(null);
      }
      continue;
    }
    files.delete(file);
    let npy;
    try {
      npy = readNpy(join(dir, file));
    } catch (e) {
      errors.push(`weight ${name}: ${e.message}`);
      values.push(null);
      continue;
    }
    if (npy.shape.length !== w.shape.length || npy.shape.some((d, i) => d !== w.shape[i])) {
      errors.push(`weight ${name}: file shape [${npy.shape}] but the model needs [${w.shape}]`);
      values.push(null);
      continue;
    }
    values.push(tf.tensor(npy.data, w.shape, 'float32'));
  }
  for (const f of [...files].sort()) errors.push(`unused file ${f}: the model has no weight named ${f.slice(0, -4).replace(/__/g, '/')}`);
  if (errors.length > 0) fail(`${errors.length} weight problem(s) in '${dir}':\n  ${errors.join('\n  ')}`);
  model.setWeights(values);
  tf.dispose(values);
  return { loaded: model.weights.length - defaulted.length, defaulted };
}
