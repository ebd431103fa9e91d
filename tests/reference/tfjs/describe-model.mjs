#!/usr/bin/env node
// Prints the structure of a Keras-equivalent TensorFlow.js model as JSON (parameter counts from tfjs itself).
// usage: node describe-model.mjs --arch NAME [--alpha A] [--resolution N]

import { MODEL_OPTIONS, modelFromCli, parseCli } from './common.mjs';
import { countParams } from './keras-apps.mjs';

const args = parseCli(MODEL_OPTIONS, ['arch'], 'node describe-model.mjs --arch NAME [--alpha A] [--resolution N]');
const { model } = modelFromCli(args);
const { total, trainable, nonTrainable } = countParams(model);
const layers = model.layers.map((l) => ({
  name: l.name,
  class_name: l.getClassName(),
  output_shape: l.outputShape,
  params: l.countParams(),
  inbound: l.inboundNodes.flatMap((n) => n.inboundLayers.map((il) => il.name)),
}));
// One layer per line keeps the output both valid JSON and easy to diff.
const head = JSON.stringify({ model: model.name, total_params: total, trainable_params: trainable, non_trainable_params: nonTrainable });
process.stdout.write(`${head.slice(0, -1)},\n "layers": [\n  ${layers.map((l) => JSON.stringify(l)).join(',\n  ')}\n ]\n}\n`);
