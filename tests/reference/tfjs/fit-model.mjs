#!/usr/bin/env node
// Trains a Keras functional model with TensorFlow.js's model.fit, as an independent reference for NativeCnn's Fit.
// usage: node fit-model.mjs --config config.json --weights DIR --x x.npy --y y.npy --epochs E --batch-size B
//                           --optimizer sgd|adam --learning-rate LR [--momentum M] [--epsilon E] --out DIR
// The config is a Keras model config (class_name Functional, as NativeCnn writes it); weights come from DIR by Keras
// name (LAYER__WEIGHT.npy). Data is not shuffled (shuffle: false), so batches are the samples in order. Writes
// DIR/history.json (loss and accuracy per epoch) and every weight after training, BatchNormalization's moving
// statistics included, as OUT/LAYER__WEIGHT.npy.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fail, loadWeightsDir, parseCli, weightFileName } from './common.mjs';
import { tf } from './keras-apps.mjs';
import { readNpy, writeNpy } from './npy.mjs';

const USAGE = 'node fit-model.mjs --config config.json --weights DIR --x x.npy --y y.npy --epochs E --batch-size B '
  + '--optimizer sgd|adam --learning-rate LR [--momentum M] [--epsilon E] --out DIR';
const args = parseCli({
  config: { type: 'string' },
  weights: { type: 'string' },
  x: { type: 'string' },
  y: { type: 'string' },
  epochs: { type: 'string' },
  'batch-size': { type: 'string' },
  optimizer: { type: 'string' },
  'learning-rate': { type: 'string' },
  momentum: { type: 'string', default: '0' },
  epsilon: { type: 'string', default: '1e-7' },
  out: { type: 'string' },
}, ['config', 'weights', 'x', 'y', 'epochs', 'batch-size', 'optimizer', 'learning-rate', 'out'], USAGE);

const topology = JSON.parse(readFileSync(args.config, 'utf8'));
const model = await tf.models.modelFromJSON({ modelTopology: topology });
loadWeightsDir(model, args.weights);
const rate = Number(args['learning-rate']);
const optimizer = args.optimizer === 'sgd'
  ? tf.train.momentum(rate, Number(args.momentum))
  : args.optimizer === 'adam' ? tf.train.adam(rate, 0.9, 0.999, Number(args.epsilon)) : fail(`unknown optimizer ${args.optimizer}`);
model.compile({ optimizer, loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });

const xs = readNpy(args.x);
const ys = readNpy(args.y);
const x = tf.tensor(xs.data, xs.shape, 'float32');
const y = tf.tensor(ys.data, [ys.shape[0], 1], 'float32');
const history = await model.fit(x, y, {
  epochs: Number(args.epochs), batchSize: Number(args['batch-size']), shuffle: false, verbose: 0,
});

mkdirSync(args.out, { recursive: true });
writeFileSync(join(args.out, 'history.json'), JSON.stringify(history.history));
for (const w of model.weights) writeNpy(join(args.out, weightFileName(w.originalName)), w.read().dataSync(), w.shape);
