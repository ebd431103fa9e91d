#!/usr/bin/env node
// Writes a model as a Keras config plus weights, the way a user's own Keras model reaches NativeCnn: the model config
// JSON that TensorFlow.js serializes (Keras 2 layout, as in model.json's modelTopology), every weight as .npy, and the
// model's prediction on an input. With --head, a custom classifier is put on the application's last feature map
// (AveragePooling2D -> Flatten -> Dropout -> Dense(10, softmax)), with seeded weights of its own.
// It also saves the model as TensorFlow.js itself does (tf.io save handler: model.json + weight shards, split in two so
// that a weight straddles the shards).
// usage: node export-config.mjs --arch NAME [--alpha A] [--resolution N] --weights DIR [--head] --input x.npy --out-dir D
//   writes D/model-config.json, D/weights/<layer>__<weight>.npy, D/y.npy, D/tfjs/model.json + group1-shard{1,2}of2.bin,
//   and D/features.npy: the output of the layer that feeds the classifier (its name in D/features.txt), which stays
//   informative when random weights saturate the softmax

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fail, loadWeightsDir, MODEL_OPTIONS, modelFromCli, parseCli, weightFileName } from './common.mjs';
import { tf } from './keras-apps.mjs';
import { readNpy, writeNpy } from './npy.mjs';
import { hashSeed, mulberry32, uniformArray } from './random.mjs';

const USAGE = 'node export-config.mjs --arch NAME [--alpha A] [--resolution N] --weights DIR [--head] --input x.npy --out-dir D';
const args = parseCli({ ...MODEL_OPTIONS, weights: { type: 'string' }, head: { type: 'boolean' }, input: { type: 'string' },
  'out-dir': { type: 'string' } }, ['arch', 'weights', 'input', 'out-dir'], USAGE);

const input = readNpy(args.input);
const { model: application } = modelFromCli(args, [input.shape[1], input.shape[2]]);
loadWeightsDir(application, args.weights);

// Last feature map: the layer before the global pooling that feeds the classifier.
const FEATURES = { mobilenetv2: 'out_relu', resnet50: 'conv5_block3_out', resnet101: 'conv5_block3_out', resnet152: 'conv5_block3_out' };
let model = application;
if (args.head) {
  const features = application.getLayer(FEATURES[args.arch] ?? 'top_activation').output;
  let x = tf.layers.averagePooling2d({ poolSize: 2, strides: 1, padding: 'valid', name: 'head_pool' }).apply(features);
  x = tf.layers.flatten({ name: 'head_flatten' }).apply(x);
  x = tf.layers.dropout({ rate: 0.3, name: 'head_dropout' }).apply(x);
  x = tf.layers.dense({ units: 10, activation: 'softmax', name: 'head_predictions' }).apply(x);
  model = tf.model({ inputs: application.inputs, outputs: x, name: `${application.name}_custom_head` });
  const dense = model.getLayer('head_predictions');
  const [kernelShape, biasShape] = dense.weights.map((w) => w.shape);
  const limit = Math.sqrt(3 / kernelShape[0]);
  dense.setWeights([
    tf.tensor(uniformArray(mulberry32(hashSeed('head_predictions/kernel', 5)), kernelShape[0] * kernelShape[1], -limit, limit), kernelShape),
    tf.tensor(uniformArray(mulberry32(hashSeed('head_predictions/bias', 5)), biasShape[0], -0.1, 0.1), biasShape),
  ]);
}

const outDir = args['out-dir'];
mkdirSync(join(outDir, 'weights'), { recursive: true });
writeFileSync(join(outDir, 'model-config.json'), JSON.stringify(model.toJSON(null, false)));
for (const w of model.weights) writeNpy(join(outDir, 'weights', weightFileName(w.originalName)), w.read().dataSync(), w.shape);
const tfjsDir = join(outDir, 'tfjs');
mkdirSync(tfjsDir, { recursive: true });
await model.save(tf.io.withSaveHandler(async (artifacts) => {
  const data = new Uint8Array(Array.isArray(artifacts.weightData)
    ? await new Blob(artifacts.weightData).arrayBuffer() : artifacts.weightData);
  const half = Math.floor(data.length / 2) + 3; // deliberately not on a weight boundary
  const paths = ['group1-shard1of2.bin', 'group1-shard2of2.bin'];
  writeFileSync(join(tfjsDir, paths[0]), data.subarray(0, half));
  writeFileSync(join(tfjsDir, paths[1]), data.subarray(half));
  writeFileSync(join(tfjsDir, 'model.json'), JSON.stringify({
    format: 'layers-model', generatedBy: `TensorFlow.js tfjs-layers v${tf.version.tfjs}`, convertedBy: null,
    modelTopology: artifacts.modelTopology, weightsManifest: [{ paths, weights: artifacts.weightSpecs }],
  }));
  return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
}));
const featureLayer = args.head ? 'head_flatten' : args.arch === 'mobilenetv2' ? 'global_average_pooling2d' : 'avg_pool';
const tapped = tf.model({ inputs: model.inputs, outputs: [model.outputs[0], model.getLayer(featureLayer).output] });
const [y, features] = tapped.predict(tf.tensor4d(input.data, input.shape, 'float32'));
writeNpy(join(outDir, 'y.npy'), y.dataSync(), y.shape);
writeNpy(join(outDir, 'features.npy'), features.dataSync(), features.shape);
writeFileSync(join(outDir, 'features.txt'), featureLayer);
if (!y.dataSync().every(Number.isFinite)) fail('the prediction is not finite');
