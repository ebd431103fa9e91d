// Parameter totals, splits and layer counts against the numbers Keras publishes (keras.io applications table and
// model.summary() dumps; see shared docs KERAS.md). Builds every model without running it.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { buildModel, countParams } from '../keras-apps.mjs';

// [arch, alpha, total, trainable, nonTrainable, layers incl. InputLayer, weight variables]
const EXPECTED = [
  ['efficientnet-b0', 1, 5330571, 5288548, 42023, 241, 314],
  ['efficientnet-b1', 1, 7856239, 7794184, 62055, 343, 442],
  ['efficientnet-b2', 1, 9177569, 9109994, 67575, 343, 442],
  ['efficientnet-b3', 1, 12320535, 12233232, 87303, 388, 499],
  ['efficientnet-b4', 1, 19466823, 19341616, 125207, 478, 613],
  ['efficientnet-b5', 1, 30562527, 30389784, 172743, 580, 741],
  ['efficientnet-b6', 1, 43265143, 43040704, 224439, 670, 855],
  ['efficientnet-b7', 1, 66658687, 66347960, 310727, 817, 1040],
  ['mobilenetv2', 0.35, 1691208, 1677128, 14080, 156, 262],
  ['mobilenetv2', 0.5, 1987224, 1968680, 18544, 156, 262],
  ['mobilenetv2', 0.75, 2663064, 2636424, 26640, 156, 262],
  ['mobilenetv2', 1.0, 3538984, 3504872, 34112, 156, 262],
  ['mobilenetv2', 1.3, 5431048, 5386792, 44256, 156, 262],
  ['mobilenetv2', 1.4, 6156712, 6108776, 47936, 156, 262],
  ['resnet50', 1, 25636712, 25583592, 53120, 177, 320],
  ['resnet101', 1, 44707176, 44601832, 105344, 347, 626],
  ['resnet152', 1, 60419944, 60268520, 151424, 517, 932],
  // EfficientNetV2: totals as Keras and google/automl give them; splits and counts recounted here.
  ['efficientnetv2-b0', 1, 7200312, 7139704, 60608, 273, 361],
  ['efficientnetv2-b1', 1, 8212124, 8141052, 71072, 337, 443],
  ['efficientnetv2-b2', 1, 10178374, 10096086, 82288, 352, 462],
  ['efficientnetv2-b3', 1, 14467622, 14358406, 109216, 412, 538],
  ['efficientnetv2-s', 1, 21612360, 21458488, 153872, 516, 672],
  ['efficientnetv2-m', 1, 54431388, 54139356, 292032, 743, 963],
  ['efficientnetv2-l', 1, 119027848, 118515272, 512576, 1031, 1331],
];

for (const [arch, alpha, total, trainable, nonTrainable, layers, weights] of EXPECTED) {
  test(`${arch} alpha ${alpha}: Keras parameter counts`, () => {
    const model = buildModel(arch, { alpha });
    try {
      assert.deepEqual(countParams(model), { total, trainable, nonTrainable });
      assert.equal(model.layers.length, layers);
      assert.equal(model.weights.length, weights);
      assert.equal(new Set(model.weights.map((w) => w.originalName)).size, weights, 'weight names are unique');
    } finally {
      model.dispose();
    }
  });
}

test('EfficientNet spatial sizes follow correct_pad (odd sizes at B2/B3/B7)', () => {
  const sizes = {
    'efficientnet-b2': [130, 65, 33, 17, 9],
    'efficientnet-b3': [150, 75, 38, 19, 10],
    'efficientnet-b7': [300, 150, 75, 38, 19],
  };
  for (const [arch, expected] of Object.entries(sizes)) {
    const model = buildModel(arch);
    const got = ['stem_conv', 'block2a_dwconv', 'block3a_dwconv', 'block4a_dwconv', 'block6a_dwconv']
      .map((n) => model.getLayer(n).outputShape[1]);
    model.dispose();
    assert.deepEqual(got, expected, arch);
  }
});

test('describe-model prints the published total as JSON', () => {
  const script = fileURLToPath(new URL('../describe-model.mjs', import.meta.url));
  const out = JSON.parse(execFileSync(process.execPath, [script, '--arch', 'mobilenetv2', '--alpha', '0.35', '--resolution', '96']));
  assert.equal(out.model, 'mobilenetv2_0.35_96');
  assert.equal(out.total_params, 1691208);
  const conv1 = out.layers.find((l) => l.name === 'Conv1');
  assert.deepEqual(conv1, { name: 'Conv1', class_name: 'Conv2D', output_shape: [null, 48, 48, 16], params: 432, inbound: ['input_1'] });
});
