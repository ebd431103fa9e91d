// Independent TensorFlow.js re-implementation of seven Keras Applications families
// (EfficientNet B0-B7, EfficientNetV2 B0-B3/S/M/L, MobileNet v1, MobileNetV2, MobileNetV3 Small/Large, ResNet50/101/152
// v1 and v2), written from the Keras builder code (keras/src/applications/{efficientnet,efficientnet_v2,mobilenet,
// mobilenet_v2,mobilenet_v3,resnet,resnet_v2}.py).
// Layer and weight names follow Keras exactly, so weights can be exchanged by name.
// Nothing here is shared with the C# code under src/: only the Keras naming convention.

import * as tf from '@tensorflow/tfjs';

// PROD only silences tfjs's console warnings (e.g. the "install tfjs-node" banner); it changes no arithmetic.
tf.env().set('PROD', true);

// ---------------------------------------------------------------------------
// Custom layers for the EfficientNet in-model preprocessing. tfjs-layers has no
// Normalization layer and its Rescaling takes only a scalar scale, so both are
// written here with Keras semantics.
// ---------------------------------------------------------------------------

/** Keras `Rescaling`: `x * scale + offset`; `scale` may be a scalar or one value per channel. */
export class KerasRescaling extends tf.layers.Layer {
  static className = 'Rescaling';

  constructor(args) {
    super(args);
    this.scale = args.scale;
    this.offset = args.offset ?? 0;
  }

  computeOutputShape(inputShape) {
    return inputShape;
  }

  call(inputs) {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      // Keras casts the Python scale (double) to the layer dtype, float32, then broadcasts over the last axis.
      const scale = Array.isArray(this.scale) ? tf.tensor1d(this.scale, 'float32') : tf.scalar(this.scale, 'float32');
      return tf.add(tf.mul(x, scale), tf.scalar(this.offset, 'float32'));
    });
  }

  getConfig() {
    return { ...super.getConfig(), scale: this.scale, offset: this.offset };
  }
}

/** ImageNet statistics that EfficientNet's Normalization holds (the variance entries are really standard deviations). */
export const EFFICIENTNET_MEAN = [0.485, 0.456, 0.406];
export const EFFICIENTNET_VARIANCE = [0.229, 0.224, 0.225];

/** Keras `Normalization(axis=-1)` at inference: `(x - mean) / max(sqrt(variance), 1e-7)`, weights mean, variance, count. */
export class KerasNormalization extends tf.layers.Layer {
  static className = 'Normalization';

  constructor(args) {
    super(args);
    this.trainable = false;
  }

  computeOutputShape(inputShape) {
    return inputShape;
  }

  build(inputShape) {
    const channels = inputShape[inputShape.length - 1];
    // Non-trainable, in Keras order mean, variance, count.
    this.mean = this.addWeight('mean', [channels], 'float32', tf.initializers.zeros(), null, false);
    this.variance = this.addWeight('variance', [channels], 'float32', tf.initializers.ones(), null, false);
    this.count = this.addWeight('count', [], 'float32', tf.initializers.zeros(), null, false);
    this.built = true;
  }

  call(inputs) {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      const std = tf.maximum(tf.sqrt(this.variance.read()), tf.scalar(1e-7, 'float32'));
      return tf.div(tf.sub(x, this.mean.read()), std);
    });
  }
}

// ---------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------

/** Keras `imagenet_utils.correct_pad` for a known (static) input size: [[top, bottom], [left, right]]. */
export function correctPad(height, width, kernelSize) {
  const c = Math.floor(kernelSize / 2);
  const adjustH = 1 - (height % 2);
  const adjustW = 1 - (width % 2);
  return [[c - adjustH, c], [c - adjustW, c]];
}

/** Keras `_make_divisible` / EfficientNet `round_filters` core (values are positive, so int() is floor). */
function makeDivisible(v, divisor = 8, minValue = divisor) {
  let newV = Math.max(minValue, Math.floor(Math.floor(v + divisor / 2) / divisor) * divisor);
  if (newV < 0.9 * v) newV += divisor;
  return newV;
}

// Weights are always loaded from files afterwards, so zero initialisers keep model construction fast.
const ZERO = 'zeros';

function conv(x, { filters, kernelSize, strides = 1, padding = 'valid', useBias = true, activation = null, name }) {
  return tf.layers.conv2d({
    filters, kernelSize, strides, padding, useBias, activation: activation ?? undefined, name,
    kernelInitializer: ZERO, biasInitializer: ZERO,
  }).apply(x);
}

function depthwise(x, { kernelSize, strides = 1, padding = 'valid', depthMultiplier = 1, name }) {
  return tf.layers.depthwiseConv2d({
    kernelSize, strides, padding, depthMultiplier, useBias: false, name, depthwiseInitializer: ZERO,
  }).apply(x);
}

function batchNorm(x, { epsilon, momentum = 0.99, name }) {
  return tf.layers.batchNormalization({ axis: -1, epsilon, momentum, name }).apply(x);
}

function spatial(x) {
  return [x.shape[1], x.shape[2]];
}

// ---------------------------------------------------------------------------
// EfficientNet (keras/src/applications/efficientnet.py)
// ---------------------------------------------------------------------------

const EFFICIENTNET_BLOCKS = [
  { kernelSize: 3, repeats: 1, filtersIn: 32, filtersOut: 16, expandRatio: 1, idSkip: true, strides: 1, seRatio: 0.25 },
  { kernelSize: 3, repeats: 2, filtersIn: 16, filtersOut: 24, expandRatio: 6, idSkip: true, strides: 2, seRatio: 0.25 },
  { kernelSize: 5, repeats: 2, filtersIn: 24, filtersOut: 40, expandRatio: 6, idSkip: true, strides: 2, seRatio: 0.25 },
  { kernelSize: 3, repeats: 3, filtersIn: 40, filtersOut: 80, expandRatio: 6, idSkip: true, strides: 2, seRatio: 0.25 },
  { kernelSize: 5, repeats: 3, filtersIn: 80, filtersOut: 112, expandRatio: 6, idSkip: true, strides: 1, seRatio: 0.25 },
  { kernelSize: 5, repeats: 4, filtersIn: 112, filtersOut: 192, expandRatio: 6, idSkip: true, strides: 2, seRatio: 0.25 },
  { kernelSize: 3, repeats: 1, filtersIn: 192, filtersOut: 320, expandRatio: 6, idSkip: true, strides: 1, seRatio: 0.25 },
];

/** width, depth, default resolution, dropout per variant (EfficientNetB0..B7). */
export const EFFICIENTNET_VARIANTS = {
  b0: [1.0, 1.0, 224, 0.2], b1: [1.0, 1.1, 240, 0.2], b2: [1.1, 1.2, 260, 0.3], b3: [1.2, 1.4, 300, 0.3],
  b4: [1.4, 1.8, 380, 0.4], b5: [1.6, 2.2, 456, 0.4], b6: [1.8, 2.6, 528, 0.5], b7: [2.0, 3.1, 600, 0.5],
};

function efficientNetBlock(inputs, p) {
  const { name, filtersIn, filtersOut, kernelSize, strides, expandRatio, seRatio, idSkip, dropRate } = p;
  const bnEps = 1e-3;
  const filters = filtersIn * expandRatio;
  let x = inputs;
  if (expandRatio !== 1) {
    x = conv(x, { filters, kernelSize: 1, padding: 'same', useBias: false, name: `${name}expand_conv` });
    x = batchNorm(x, { epsilon: bnEps, name: `${name}expand_bn` });
    x = tf.layers.activation({ activation: 'swish', name: `${name}expand_activation` }).apply(x);
  }
  let convPad = 'same';
  if (strides === 2) {
    const [h, w] = spatial(x);
    x = tf.layers.zeroPadding2d({ padding: correctPad(h, w, kernelSize), name: `${name}dwconv_pad` }).apply(x);
    convPad = 'valid';
  }
  x = depthwise(x, { kernelSize, strides, padding: convPad, name: `${name}dwconv` });
  x = batchNorm(x, { epsilon: bnEps, name: `${name}bn` });
  x = tf.layers.activation({ activation: 'swish', name: `${name}activation` }).apply(x);

  if (seRatio > 0 && seRatio <= 1) {
    // The SE bottleneck width comes from the block input width, not the expanded width.
    const filtersSe = Math.max(1, Math.floor(filtersIn * seRatio));
    let se = tf.layers.globalAveragePooling2d({ name: `${name}se_squeeze` }).apply(x);
    se = tf.layers.reshape({ targetShape: [1, 1, filters], name: `${name}se_reshape` }).apply(se);
    se = conv(se, { filters: filtersSe, kernelSize: 1, padding: 'same', activation: 'swish', name: `${name}se_reduce` });
    se = conv(se, { filters, kernelSize: 1, padding: 'same', activation: 'sigmoid', name: `${name}se_expand` });
    x = tf.layers.multiply({ name: `${name}se_excite` }).apply([x, se]);
  }

  x = conv(x, { filters: filtersOut, kernelSize: 1, padding: 'same', useBias: false, name: `${name}project_conv` });
  x = batchNorm(x, { epsilon: bnEps, name: `${name}project_bn` });
  if (idSkip && strides === 1 && filtersIn === filtersOut) {
    if (dropRate > 0) {
      // Identity at inference; kept so the layer list matches Keras.
      x = tf.layers.dropout({ rate: dropRate, name: `${name}drop` }).apply(x);
    }
    x = tf.layers.add({ name: `${name}add` }).apply([x, inputs]);
  }
  return x;
}

/** Builds `keras.applications.EfficientNetB{n}(weights="imagenet", include_top=True)` (with the 2.13.1+ stem fix). */
export function efficientNet(variant, { inputShape } = {}) {
  const v = EFFICIENTNET_VARIANTS[variant];
  if (!v) throw new Error(`unknown EfficientNet variant '${variant}'`);
  const [widthCoefficient, depthCoefficient, defaultSize, dropoutRate] = v;
  const shape = inputShape ?? [defaultSize, defaultSize, 3];
  const divisor = 8;
  const dropConnectRate = 0.2;
  // Computed in double exactly like Python: 1.4*3 = 4.199999999999999 -> 5, 2.2*3 = 6.6000000000000005 -> 7.
  const roundFilters = (f) => makeDivisible(f * widthCoefficient, divisor);
  const roundRepeats = (r) => Math.ceil(depthCoefficient * r);

  const input = tf.input({ shape, name: 'input_1' });
  let x = new KerasRescaling({ scale: 1 / 255, name: 'rescaling' }).apply(input);
  x = new KerasNormalization({ name: 'normalization' }).apply(x);
  // Keras >= 2.13.1 / Keras 3 correction of the stored std-as-variance: multiply by 1/sqrt(std), computed in double.
  x = new KerasRescaling({ scale: EFFICIENTNET_VARIANCE.map((s) => 1 / Math.sqrt(s)), name: 'rescaling_1' }).apply(x);

  const [h, w] = spatial(x);
  x = tf.layers.zeroPadding2d({ padding: correctPad(h, w, 3), name: 'stem_conv_pad' }).apply(x);
  x = conv(x, { filters: roundFilters(32), kernelSize: 3, strides: 2, padding: 'valid', useBias: false, name: 'stem_conv' });
  x = batchNorm(x, { epsilon: 1e-3, name: 'stem_bn' });
  x = tf.layers.activation({ activation: 'swish', name: 'stem_activation' }).apply(x);

  const totalBlocks = EFFICIENTNET_BLOCKS.reduce((s, a) => s + roundRepeats(a.repeats), 0);
  let b = 0;
  EFFICIENTNET_BLOCKS.forEach((args, i) => {
    let filtersIn = roundFilters(args.filtersIn);
    const filtersOut = roundFilters(args.filtersOut);
    let strides = args.strides;
    const repeats = roundRepeats(args.repeats);
    for (let j = 0; j < repeats; j++) {
      if (j > 0) {
        strides = 1;
        filtersIn = filtersOut;
      }
      x = efficientNetBlock(x, {
        name: `block${i + 1}${String.fromCharCode(97 + j)}_`,
        filtersIn, filtersOut, kernelSize: args.kernelSize, strides, expandRatio: args.expandRatio,
        seRatio: args.seRatio, idSkip: args.idSkip, dropRate: (dropConnectRate * b) / totalBlocks,
      });
      b++;
    }
  });

  x = conv(x, { filters: roundFilters(1280), kernelSize: 1, padding: 'same', useBias: false, name: 'top_conv' });
  x = batchNorm(x, { epsilon: 1e-3, name: 'top_bn' });
  x = tf.layers.activation({ activation: 'swish', name: 'top_activation' }).apply(x);
  x = tf.layers.globalAveragePooling2d({ name: 'avg_pool' }).apply(x);
  if (dropoutRate > 0) x = tf.layers.dropout({ rate: dropoutRate, name: 'top_dropout' }).apply(x);
  x = tf.layers.dense({
    units: 1000, activation: 'softmax', name: 'predictions', kernelInitializer: ZERO, biasInitializer: ZERO,
  }).apply(x);

  const model = tf.model({ inputs: input, outputs: x, name: `efficientnet${variant}` });
  const norm = model.getLayer('normalization');
  norm.setWeights([tf.tensor1d(EFFICIENTNET_MEAN), tf.tensor1d(EFFICIENTNET_VARIANCE), tf.scalar(0)]);
  return model;
}

// ---------------------------------------------------------------------------
// MobileNetV2 (keras/src/applications/mobilenet_v2.py)
// ---------------------------------------------------------------------------

function relu6(x, name) {
  return tf.layers.reLU({ maxValue: 6, name }).apply(x);
}

function invertedResBlock(inputs, { expansion, stride, alpha, filters, blockId }) {
  const inChannels = inputs.shape[inputs.shape.length - 1];
  const pointwiseFilters = makeDivisible(Math.floor(filters * alpha), 8);
  let x = inputs;
  let prefix = `block_${blockId}_`;
  const bn = (t, name) => batchNorm(t, { epsilon: 1e-3, momentum: 0.999, name });
  if (blockId) {
    x = conv(x, { filters: expansion * inChannels, kernelSize: 1, padding: 'same', useBias: false, name: `${prefix}expand` });
    x = bn(x, `${prefix}expand_BN`);
    x = relu6(x, `${prefix}expand_relu`);
  } else {
    prefix = 'expanded_conv_';
  }
  if (stride === 2) {
    const [h, w] = spatial(x);
    x = tf.layers.zeroPadding2d({ padding: correctPad(h, w, 3), name: `${prefix}pad` }).apply(x);
  }
  x = depthwise(x, { kernelSize: 3, strides: stride, padding: stride === 1 ? 'same' : 'valid', name: `${prefix}depthwise` });
  x = bn(x, `${prefix}depthwise_BN`);
  x = relu6(x, `${prefix}depthwise_relu`);
  // Linear bottleneck: no activation after the projection.
  x = conv(x, { filters: pointwiseFilters, kernelSize: 1, padding: 'same', useBias: false, name: `${prefix}project` });
  x = bn(x, `${prefix}project_BN`);
  if (inChannels === pointwiseFilters && stride === 1) {
    return tf.layers.add({ name: `${prefix}add` }).apply([inputs, x]);
  }
  return x;
}

const MOBILENETV2_BLOCKS = [
  [16, 1, 1], [24, 2, 6], [24, 1, 6], [32, 2, 6], [32, 1, 6], [32, 1, 6], [64, 2, 6], [64, 1, 6], [64, 1, 6],
  [64, 1, 6], [96, 1, 6], [96, 1, 6], [96, 1, 6], [160, 2, 6], [160, 1, 6], [160, 1, 6], [320, 1, 6],
];

/** Builds `keras.applications.MobileNetV2(alpha=alpha, include_top=True)` for the given input shape. */
export function mobileNetV2({ alpha = 1.0, inputShape } = {}) {
  const shape = inputShape ?? [224, 224, 3];
  const input = tf.input({ shape, name: 'input_1' });
  const firstBlockFilters = makeDivisible(32 * alpha, 8);
  // Conv1 uses padding "same" at stride 2 (no explicit ZeroPadding layer), as tf.keras and Keras 3 do.
  let x = conv(input, { filters: firstBlockFilters, kernelSize: 3, strides: 2, padding: 'same', useBias: false, name: 'Conv1' });
  x = batchNorm(x, { epsilon: 1e-3, momentum: 0.999, name: 'bn_Conv1' });
  x = relu6(x, 'Conv1_relu');
  MOBILENETV2_BLOCKS.forEach(([filters, stride, expansion], blockId) => {
    x = invertedResBlock(x, { filters, alpha, stride, expansion, blockId });
  });
  // No alpha on the last conv unless alpha > 1.
  const lastBlockFilters = alpha > 1.0 ? makeDivisible(1280 * alpha, 8) : 1280;
  x = conv(x, { filters: lastBlockFilters, kernelSize: 1, useBias: false, name: 'Conv_1' });
  x = batchNorm(x, { epsilon: 1e-3, momentum: 0.999, name: 'Conv_1_bn' });
  x = relu6(x, 'out_relu');
  x = tf.layers.globalAveragePooling2d({ name: 'global_average_pooling2d' }).apply(x);
  x = tf.layers.dense({
    units: 1000, activation: 'softmax', name: 'predictions', kernelInitializer: ZERO, biasInitializer: ZERO,
  }).apply(x);
  return tf.model({ inputs: input, outputs: x, name: `mobilenetv2_${alpha.toFixed(2)}_${shape[0]}` });
}

// ---------------------------------------------------------------------------
// ResNet v1 (keras/src/applications/resnet.py)
// ---------------------------------------------------------------------------

const RESNET_EPS = 1.001e-5;

function resNetBlockV1(x, { filters, kernelSize = 3, stride = 1, convShortcut = true, name }) {
  let shortcut;
  if (convShortcut) {
    shortcut = conv(x, { filters: 4 * filters, kernelSize: 1, strides: stride, name: `${name}_0_conv` });
    shortcut = batchNorm(shortcut, { epsilon: RESNET_EPS, name: `${name}_0_bn` });
  } else {
    shortcut = x;
  }
  // v1 (original ResNet): the stride sits on the first 1x1 conv.
  x = conv(x, { filters, kernelSize: 1, strides: stride, name: `${name}_1_conv` });
  x = batchNorm(x, { epsilon: RESNET_EPS, name: `${name}_1_bn` });
  x = tf.layers.activation({ activation: 'relu', name: `${name}_1_relu` }).apply(x);
  x = conv(x, { filters, kernelSize, padding: 'same', name: `${name}_2_conv` });
  x = batchNorm(x, { epsilon: RESNET_EPS, name: `${name}_2_bn` });
  x = tf.layers.activation({ activation: 'relu', name: `${name}_2_relu` }).apply(x);
  x = conv(x, { filters: 4 * filters, kernelSize: 1, name: `${name}_3_conv` });
  x = batchNorm(x, { epsilon: RESNET_EPS, name: `${name}_3_bn` });
  x = tf.layers.add({ name: `${name}_add` }).apply([shortcut, x]);
  return tf.layers.activation({ activation: 'relu', name: `${name}_out` }).apply(x);
}

function resNetStackV1(x, { filters, blocks, stride1 = 2, name }) {
  x = resNetBlockV1(x, { filters, stride: stride1, name: `${name}_block1` });
  for (let i = 2; i <= blocks; i++) {
    x = resNetBlockV1(x, { filters, convShortcut: false, name: `${name}_block${i}` });
  }
  return x;
}

/** Blocks per stage conv2..conv5. */
export const RESNET_VARIANTS = { resnet50: [3, 4, 6, 3], resnet101: [3, 4, 23, 3], resnet152: [3, 8, 36, 3] };

/** Builds `keras.applications.ResNet{50,101,152}(include_top=True)`. */
export function resNet(variant, { inputShape } = {}) {
  const blocks = RESNET_VARIANTS[variant];
  if (!blocks) throw new Error(`unknown ResNet variant '${variant}'`);
  const shape = inputShape ?? [224, 224, 3];
  const input = tf.input({ shape, name: 'input_1' });
  let x = tf.layers.zeroPadding2d({ padding: [[3, 3], [3, 3]], name: 'conv1_pad' }).apply(input);
  x = conv(x, { filters: 64, kernelSize: 7, strides: 2, name: 'conv1_conv' });
  x = batchNorm(x, { epsilon: RESNET_EPS, name: 'conv1_bn' });
  x = tf.layers.activation({ activation: 'relu', name: 'conv1_relu' }).apply(x);
  x = tf.layers.zeroPadding2d({ padding: [[1, 1], [1, 1]], name: 'pool1_pad' }).apply(x);
  x = tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'valid', name: 'pool1_pool' }).apply(x);
  x = resNetStackV1(x, { filters: 64, blocks: blocks[0], stride1: 1, name: 'conv2' });
  x = resNetStackV1(x, { filters: 128, blocks: blocks[1], name: 'conv3' });
  x = resNetStackV1(x, { filters: 256, blocks: blocks[2], name: 'conv4' });
  x = resNetStackV1(x, { filters: 512, blocks: blocks[3], name: 'conv5' });
  x = tf.layers.globalAveragePooling2d({ name: 'avg_pool' }).apply(x);
  x = tf.layers.dense({
    units: 1000, activation: 'softmax', name: 'predictions', kernelInitializer: ZERO, biasInitializer: ZERO,
  }).apply(x);
  return tf.model({ inputs: input, outputs: x, name: variant });
}

// ---------------------------------------------------------------------------
// ResNet v2 (keras/src/applications/resnet_v2.py: resnet.ResNet(preact=True) with stack_residual_blocks_v2)
// ---------------------------------------------------------------------------

function resNetBlockV2(x, { filters, kernelSize = 3, stride = 1, convShortcut = false, name, autoName }) {
  let preact = batchNorm(x, { epsilon: RESNET_EPS, name: `${name}_preact_bn` });
  preact = tf.layers.activation({ activation: 'relu', name: `${name}_preact_relu` }).apply(preact);
  let shortcut;
  if (convShortcut) {
    // The conv shortcut reads the pre-activated input (with bias, no BN).
    shortcut = conv(preact, { filters: 4 * filters, kernelSize: 1, strides: stride, name: `${name}_0_conv` });
  } else {
    // Identity shortcut on the raw input; Keras's unnamed MaxPooling2D(1, strides=stride) when the block downsamples.
    shortcut = stride > 1
      ? tf.layers.maxPooling2d({ poolSize: 1, strides: stride, padding: 'valid', name: autoName('max_pooling2d') }).apply(x)
      : x;
  }
  let y = conv(preact, { filters, kernelSize: 1, strides: 1, useBias: false, name: `${name}_1_conv` });
  y = batchNorm(y, { epsilon: RESNET_EPS, name: `${name}_1_bn` });
  y = tf.layers.activation({ activation: 'relu', name: `${name}_1_relu` }).apply(y);
  y = tf.layers.zeroPadding2d({ padding: [[1, 1], [1, 1]], name: `${name}_2_pad` }).apply(y);
  y = conv(y, { filters, kernelSize, strides: stride, useBias: false, name: `${name}_2_conv` });
  y = batchNorm(y, { epsilon: RESNET_EPS, name: `${name}_2_bn` });
  y = tf.layers.activation({ activation: 'relu', name: `${name}_2_relu` }).apply(y);
  y = conv(y, { filters: 4 * filters, kernelSize: 1, name: `${name}_3_conv` });
  return tf.layers.add({ name: `${name}_out` }).apply([shortcut, y]);
}

function resNetStackV2(x, { filters, blocks, stride1 = 2, name, autoName }) {
  // Keras: block1 has the conv shortcut, blocks 2..n-1 are plain, the last block carries stride1.
  x = resNetBlockV2(x, { filters, convShortcut: true, name: `${name}_block1`, autoName });
  for (let i = 2; i < blocks; i++) x = resNetBlockV2(x, { filters, name: `${name}_block${i}`, autoName });
  return resNetBlockV2(x, { filters, stride: stride1, name: `${name}_block${blocks}`, autoName });
}

/** Blocks per stage conv2..conv5 of the v2 models. */
export const RESNETV2_VARIANTS = { resnet50v2: [3, 4, 6, 3], resnet101v2: [3, 4, 23, 3], resnet152v2: [3, 8, 36, 3] };

/** Keras's auto-naming in a fresh session: name, name_1, name_2, ... per base name. */
function autoNamer() {
  const counts = new Map();
  return (base) => {
    const n = counts.get(base) ?? 0;
    counts.set(base, n + 1);
    return n === 0 ? base : `${base}_${n}`;
  };
}

/** Builds `keras.applications.ResNet{50,101,152}V2(include_top=True)`. */
export function resNetV2(variant, { inputShape } = {}) {
  const blocks = RESNETV2_VARIANTS[variant];
  if (!blocks) throw new Error(`unknown ResNetV2 variant '${variant}'`);
  const shape = inputShape ?? [224, 224, 3];
  const autoName = autoNamer();
  const input = tf.input({ shape, name: 'input_1' });
  let x = tf.layers.zeroPadding2d({ padding: [[3, 3], [3, 3]], name: 'conv1_pad' }).apply(input);
  x = conv(x, { filters: 64, kernelSize: 7, strides: 2, name: 'conv1_conv' });
  // preact: no BN/ReLU in the stem; the max-pool sees raw conv outputs and the zero padding.
  x = tf.layers.zeroPadding2d({ padding: [[1, 1], [1, 1]], name: 'pool1_pad' }).apply(x);
  x = tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'valid', name: 'pool1_pool' }).apply(x);
  x = resNetStackV2(x, { filters: 64, blocks: blocks[0], name: 'conv2', autoName });
  x = resNetStackV2(x, { filters: 128, blocks: blocks[1], name: 'conv3', autoName });
  x = resNetStackV2(x, { filters: 256, blocks: blocks[2], name: 'conv4', autoName });
  x = resNetStackV2(x, { filters: 512, blocks: blocks[3], stride1: 1, name: 'conv5', autoName });
  x = batchNorm(x, { epsilon: RESNET_EPS, name: 'post_bn' });
  x = tf.layers.activation({ activation: 'relu', name: 'post_relu' }).apply(x);
  x = tf.layers.globalAveragePooling2d({ name: 'avg_pool' }).apply(x);
  x = tf.layers.dense({
    units: 1000, activation: 'softmax', name: 'predictions', kernelInitializer: ZERO, biasInitializer: ZERO,
  }).apply(x);
  return tf.model({ inputs: input, outputs: x, name: variant });
}

// ---------------------------------------------------------------------------
// MobileNet v1 (keras/src/applications/mobilenet.py)
// ---------------------------------------------------------------------------

/** [pointwise filters, stride] of conv_dw_1 .. conv_dw_13. */
const MOBILENET_BLOCKS = [
  [64, 1], [128, 2], [128, 1], [256, 2], [256, 1], [512, 2], [512, 1], [512, 1], [512, 1], [512, 1], [512, 1],
  [1024, 2], [1024, 1],
];

/** Builds `keras.applications.MobileNet(alpha=alpha, depth_multiplier=depthMultiplier, include_top=True)`. */
export function mobileNet({ alpha = 1.0, depthMultiplier = 1, inputShape } = {}) {
  const shape = inputShape ?? [224, 224, 3];
  const input = tf.input({ shape, name: 'input_1' });
  // _conv_block: int(32 * alpha) filters, 'same' at stride 2, BN (Keras default epsilon 1e-3), ReLU(6).
  let x = conv(input, { filters: Math.floor(32 * alpha), kernelSize: 3, strides: 2, padding: 'same', useBias: false, name: 'conv1' });
  x = batchNorm(x, { epsilon: 1e-3, name: 'conv1_bn' });
  x = relu6(x, 'conv1_relu');
  MOBILENET_BLOCKS.forEach(([filters, stride], i) => {
    const id = i + 1;
    if (stride !== 1) x = tf.layers.zeroPadding2d({ padding: [[0, 1], [0, 1]], name: `conv_pad_${id}` }).apply(x);
    x = depthwise(x, { kernelSize: 3, strides: stride, padding: stride === 1 ? 'same' : 'valid', depthMultiplier, name: `conv_dw_${id}` });
    x = batchNorm(x, { epsilon: 1e-3, name: `conv_dw_${id}_bn` });
    x = relu6(x, `conv_dw_${id}_relu`);
    x = conv(x, { filters: Math.floor(filters * alpha), kernelSize: 1, padding: 'same', useBias: false, name: `conv_pw_${id}` });
    x = batchNorm(x, { epsilon: 1e-3, name: `conv_pw_${id}_bn` });
    x = relu6(x, `conv_pw_${id}_relu`);
  });
  // GlobalAveragePooling2D(keepdims=True): tfjs has no keepdims, so pool then reshape to (1, 1, C).
  const channels = x.shape[3];
  x = tf.layers.globalAveragePooling2d({ name: 'global_average_pooling2d' }).apply(x);
  x = tf.layers.reshape({ targetShape: [1, 1, channels], name: 'global_average_pooling2d_keepdims' }).apply(x);
  x = tf.layers.dropout({ rate: 1e-3, name: 'dropout' }).apply(x);
  x = conv(x, { filters: 1000, kernelSize: 1, padding: 'same', name: 'conv_preds' });
  x = tf.layers.reshape({ targetShape: [1000], name: 'reshape_2' }).apply(x);
  x = tf.layers.activation({ activation: 'softmax', name: 'predictions' }).apply(x);
  return tf.model({ inputs: input, outputs: x, name: `mobilenet_${alpha.toFixed(2)}_${shape[0]}` });
}

// ---------------------------------------------------------------------------
// MobileNetV3 (keras/src/applications/mobilenet_v3.py)
// ---------------------------------------------------------------------------

/** Keras 3 `Activation("hard_swish")` (TF backend hard_silu): `x * (relu6(x + 3) / 6)`. */
export class KerasHardSwish extends tf.layers.Layer {
  static className = 'KerasHardSwish';

  computeOutputShape(inputShape) {
    return inputShape;
  }

  call(inputs) {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      return tf.mul(x, tf.div(tf.relu6(tf.add(x, tf.scalar(3, 'float32'))), tf.scalar(6, 'float32')));
    });
  }
}

/** A Keras 3 operator on a tensor and a Python float (`x + 3.0`, `x * (1.0 / 6.0)`), as a weightless layer. */
export class KerasScalarOp extends tf.layers.Layer {
  static className = 'KerasScalarOp';

  constructor(args) {
    super(args);
    this.op = args.op;
    this.value = args.value;
  }

  computeOutputShape(inputShape) {
    return inputShape;
  }

  call(inputs) {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      // The Python float becomes a float32 scalar (weak typing), then one float32 operation.
      const c = tf.scalar(this.value, 'float32');
      return this.op === 'add' ? tf.add(x, c) : tf.mul(x, c);
    });
  }

  getConfig() {
    return { ...super.getConfig(), op: this.op, value: this.value };
  }
}

/** [expansion, filters, kernel ('k' = the variant's kernel), stride, SE (bool), activation ('act' = the variant's)]. */
const MOBILENETV3_SMALL = [
  [1, 16, 3, 2, true, 'relu'], [72 / 16, 24, 3, 2, false, 'relu'], [88 / 24, 24, 3, 1, false, 'relu'],
  [4, 40, 'k', 2, true, 'act'], [6, 40, 'k', 1, true, 'act'], [6, 40, 'k', 1, true, 'act'],
  [3, 48, 'k', 1, true, 'act'], [3, 48, 'k', 1, true, 'act'],
  [6, 96, 'k', 2, true, 'act'], [6, 96, 'k', 1, true, 'act'], [6, 96, 'k', 1, true, 'act'],
];
const MOBILENETV3_LARGE = [
  [1, 16, 3, 1, false, 'relu'], [4, 24, 3, 2, false, 'relu'], [3, 24, 3, 1, false, 'relu'],
  [3, 40, 'k', 2, true, 'relu'], [3, 40, 'k', 1, true, 'relu'], [3, 40, 'k', 1, true, 'relu'],
  [6, 80, 3, 2, false, 'act'], [2.5, 80, 3, 1, false, 'act'], [2.3, 80, 3, 1, false, 'act'], [2.3, 80, 3, 1, false, 'act'],
  [6, 112, 3, 1, true, 'act'], [6, 112, 3, 1, true, 'act'],
  [6, 160, 'k', 2, true, 'act'], [6, 160, 'k', 1, true, 'act'], [6, 160, 'k', 1, true, 'act'],
];

/** Builds `keras.applications.MobileNetV3{Small,Large}(alpha, minimalistic, include_top=True, include_preprocessing=True)`. */
export function mobileNetV3(type, { alpha = 1.0, minimalistic = false, inputShape } = {}) {
  const table = type === 'small' ? MOBILENETV3_SMALL : type === 'large' ? MOBILENETV3_LARGE : null;
  if (!table) throw new Error(`unknown MobileNetV3 type '${type}'`);
  const shape = inputShape ?? [224, 224, 3];
  const auto = autoNamer();
  const bn = (t, name) => batchNorm(t, { epsilon: 1e-3, momentum: 0.999, name });
  const relu = (t) => tf.layers.reLU({ name: auto('re_lu') }).apply(t);
  const hardSwish = (t) => new KerasHardSwish({ name: auto('activation') }).apply(t);
  const activation = minimalistic ? relu : hardSwish;
  const familyKernel = minimalistic ? 3 : 5;
  const depth = (d) => makeDivisible(d * alpha, 8);
  const hardSigmoid = (t) => {
    // layers.ReLU(6.0)(x + 3.0) * (1.0 / 6.0): Keras 3 names the operators add / multiply and the ReLU re_lu_N.
    let y = new KerasScalarOp({ op: 'add', value: 3.0, name: auto('add') }).apply(t);
    y = tf.layers.reLU({ maxValue: 6, name: auto('re_lu') }).apply(y);
    return new KerasScalarOp({ op: 'mul', value: 1.0 / 6.0, name: auto('multiply') }).apply(y);
  };
  const seBlock = (inputs, filters, prefix) => {
    let y = tf.layers.globalAveragePooling2d({ name: `${prefix}squeeze_excite_avg_pool` }).apply(inputs);
    y = tf.layers.reshape({ targetShape: [1, 1, filters], name: `${prefix}squeeze_excite_avg_pool_keepdims` }).apply(y);
    y = conv(y, { filters: makeDivisible(filters * 0.25, 8), kernelSize: 1, padding: 'same', name: `${prefix}squeeze_excite_conv` });
    y = tf.layers.reLU({ name: `${prefix}squeeze_excite_relu` }).apply(y);
    y = conv(y, { filters, kernelSize: 1, padding: 'same', name: `${prefix}squeeze_excite_conv_1` });
    y = hardSigmoid(y);
    return tf.layers.multiply({ name: `${prefix}squeeze_excite_mul` }).apply([inputs, y]);
  };
  const block = (inputs, { expansion, filters, kernelSize, stride, se, act, blockId }) => {
    const inFilters = inputs.shape[3];
    const expanded = makeDivisible(inFilters * expansion, 8);
    let prefix = 'expanded_conv_';
    let x = inputs;
    if (blockId) {
      prefix = `expanded_conv_${blockId}_`;
      x = conv(x, { filters: expanded, kernelSize: 1, padding: 'same', useBias: false, name: `${prefix}expand` });
      x = bn(x, `${prefix}expand_bn`);
      x = act(x);
    }
    if (stride === 2) {
      const [h, w] = spatial(x);
      x = tf.layers.zeroPadding2d({ padding: correctPad(h, w, kernelSize), name: `${prefix}depthwise_pad` }).apply(x);
    }
    x = depthwise(x, { kernelSize, strides: stride, padding: stride === 1 ? 'same' : 'valid', name: `${prefix}depthwise` });
    x = bn(x, `${prefix}depthwise_bn`);
    x = act(x);
    if (se) x = seBlock(x, expanded, prefix);
    x = conv(x, { filters, kernelSize: 1, padding: 'same', useBias: false, name: `${prefix}project` });
    x = bn(x, `${prefix}project_bn`);
    if (stride === 1 && inFilters === filters) x = tf.layers.add({ name: `${prefix}add` }).apply([inputs, x]);
    return x;
  };

  const input = tf.input({ shape, name: 'input_1' });
  let x = new KerasRescaling({ scale: 1 / 127.5, offset: -1, name: 'rescaling' }).apply(input);
  x = conv(x, { filters: 16, kernelSize: 3, strides: 2, padding: 'same', useBias: false, name: 'conv' });
  x = bn(x, 'conv_bn');
  x = activation(x);
  table.forEach(([expansion, filters, k, stride, se, act], blockId) => {
    x = block(x, {
      expansion, filters: depth(filters), kernelSize: k === 'k' ? familyKernel : k, stride,
      se: se && !minimalistic, act: act === 'act' ? activation : relu, blockId,
    });
  });
  const lastConv = makeDivisible(x.shape[3] * 6, 8);
  let lastPoint = type === 'small' ? 1024 : 1280;
  if (alpha > 1.0) lastPoint = makeDivisible(lastPoint * alpha, 8);
  x = conv(x, { filters: lastConv, kernelSize: 1, padding: 'same', useBias: false, name: 'conv_1' });
  x = bn(x, 'conv_1_bn');
  x = activation(x);
  x = tf.layers.globalAveragePooling2d({ name: auto('global_average_pooling2d') }).apply(x);
  x = tf.layers.reshape({ targetShape: [1, 1, lastConv], name: 'global_average_pooling2d_keepdims' }).apply(x);
  x = conv(x, { filters: lastPoint, kernelSize: 1, padding: 'same', name: 'conv_2' });
  x = activation(x);
  x = tf.layers.dropout({ rate: 0.2, name: auto('dropout') }).apply(x);
  x = conv(x, { filters: 1000, kernelSize: 1, padding: 'same', name: 'logits' });
  x = tf.layers.flatten({ name: auto('flatten') }).apply(x);
  x = tf.layers.activation({ activation: 'softmax', name: 'predictions' }).apply(x);
  return tf.model({ inputs: input, outputs: x, name: type === 'small' ? 'MobileNetV3Small' : 'MobileNetV3Large' });
}

// ---------------------------------------------------------------------------
// Entry point used by the CLIs
// ---------------------------------------------------------------------------

// ---------------------------------------------------------------------------
// EfficientNetV2 (keras/src/applications/efficientnet_v2.py)
// ---------------------------------------------------------------------------

/**
 * Keras `Normalization(mean=..., variance=...)`: with the statistics given, Keras 3 keeps them as constant tensors,
 * not weights, so the layer has no parameters. `(x - mean) / max(sqrt(variance), 1e-7)` in float32.
 */
export class KerasConstantNormalization extends tf.layers.Layer {
  static className = 'Normalization';

  constructor(args) {
    super(args);
    this.mean = args.mean;
    this.variance = args.variance;
  }

  computeOutputShape(inputShape) {
    return inputShape;
  }

  call(inputs) {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      const std = tf.maximum(tf.sqrt(tf.tensor1d(this.variance, 'float32')), tf.scalar(1e-7, 'float32'));
      return tf.div(tf.sub(x, tf.tensor1d(this.mean, 'float32')), std);
    });
  }

  getConfig() {
    return { ...super.getConfig(), mean: this.mean, variance: this.variance };
  }
}

// DEFAULT_BLOCKS_ARGS, as [conv_type, kernel_size, num_repeat, input_filters, output_filters, expand_ratio, strides,
// se_ratio] (conv_type 1 = Fused-MBConv, 0 = MBConv). b1, b2, b3 repeat b0's table.
const V2_B_BLOCKS = [
  [1, 3, 1, 32, 16, 1, 1, 0], [1, 3, 2, 16, 32, 4, 2, 0], [1, 3, 2, 32, 48, 4, 2, 0],
  [0, 3, 3, 48, 96, 4, 2, 0.25], [0, 3, 5, 96, 112, 6, 1, 0.25], [0, 3, 8, 112, 192, 6, 2, 0.25],
];
const V2_BLOCKS = {
  b0: V2_B_BLOCKS, b1: V2_B_BLOCKS, b2: V2_B_BLOCKS, b3: V2_B_BLOCKS,
  s: [
    [1, 3, 2, 24, 24, 1, 1, 0], [1, 3, 4, 24, 48, 4, 2, 0], [1, 3, 4, 48, 64, 4, 2, 0],
    [0, 3, 6, 64, 128, 4, 2, 0.25], [0, 3, 9, 128, 160, 6, 1, 0.25], [0, 3, 15, 160, 256, 6, 2, 0.25],
  ],
  m: [
    [1, 3, 3, 24, 24, 1, 1, 0], [1, 3, 5, 24, 48, 4, 2, 0], [1, 3, 5, 48, 80, 4, 2, 0],
    [0, 3, 7, 80, 160, 4, 2, 0.25], [0, 3, 14, 160, 176, 6, 1, 0.25], [0, 3, 18, 176, 304, 6, 2, 0.25],
    [0, 3, 5, 304, 512, 6, 1, 0.25],
  ],
  l: [
    [1, 3, 4, 32, 32, 1, 1, 0], [1, 3, 7, 32, 64, 4, 2, 0], [1, 3, 7, 64, 96, 4, 2, 0],
    [0, 3, 10, 96, 192, 4, 2, 0.25], [0, 3, 19, 192, 224, 6, 1, 0.25], [0, 3, 25, 224, 384, 6, 2, 0.25],
    [0, 3, 7, 384, 640, 6, 1, 0.25],
  ],
};

/** width, depth, default resolution per variant (EfficientNetV2B0..B3, S, M, L). */
export const EFFICIENTNETV2_VARIANTS = {
  b0: [1.0, 1.0, 224], b1: [1.0, 1.1, 240], b2: [1.1, 1.2, 260], b3: [1.2, 1.4, 300],
  s: [1.0, 1.0, 384], m: [1.0, 1.0, 480], l: [1.0, 1.0, 480],
};

const V2_BN = { epsilon: 1e-3, momentum: 0.9 };

function swish(x, name) {
  return tf.layers.activation({ activation: 'swish', name }).apply(x);
}

/** The SE branch shared by both V2 blocks; the bottleneck width comes from the block input width. */
function v2SqueezeExcite(x, { name, filtersIn, filters, seRatio }) {
  if (!(seRatio > 0 && seRatio <= 1)) return x;
  const filtersSe = Math.max(1, Math.floor(filtersIn * seRatio));
  let se = tf.layers.globalAveragePooling2d({ name: `${name}se_squeeze` }).apply(x);
  se = tf.layers.reshape({ targetShape: [1, 1, filters], name: `${name}se_reshape` }).apply(se);
  se = conv(se, { filters: filtersSe, kernelSize: 1, padding: 'same', activation: 'swish', name: `${name}se_reduce` });
  se = conv(se, { filters, kernelSize: 1, padding: 'same', activation: 'sigmoid', name: `${name}se_expand` });
  return tf.layers.multiply({ name: `${name}se_excite` }).apply([x, se]);
}

/** Residual with drop-connect: Keras adds `Dropout(rate, noise_shape=(None,1,1,1))` only when the rate is not 0. */
function v2Residual(x, inputs, { name, filtersIn, filtersOut, strides, survival }) {
  if (strides !== 1 || filtersIn !== filtersOut) return x;
  if (survival) x = tf.layers.dropout({ rate: survival, name: `${name}drop` }).apply(x); // identity at inference
  return tf.layers.add({ name: `${name}add` }).apply([x, inputs]);
}

function v2MBConv(inputs, p) {
  const { name, filtersIn, filtersOut, expandRatio, kernelSize, strides } = p;
  const filters = filtersIn * expandRatio;
  let x = inputs;
  if (expandRatio !== 1) {
    x = conv(x, { filters, kernelSize: 1, padding: 'same', useBias: false, name: `${name}expand_conv` });
    x = batchNorm(x, { ...V2_BN, name: `${name}expand_bn` });
    x = swish(x, `${name}expand_activation`);
  }
  x = depthwise(x, { kernelSize, strides, padding: 'same', name: `${name}dwconv2` });
  x = batchNorm(x, { ...V2_BN, name: `${name}bn` });
  x = swish(x, `${name}activation`);
  x = v2SqueezeExcite(x, { ...p, filters });
  x = conv(x, { filters: filtersOut, kernelSize: 1, padding: 'same', useBias: false, name: `${name}project_conv` });
  x = batchNorm(x, { ...V2_BN, name: `${name}project_bn` });
  return v2Residual(x, inputs, p);
}

function v2FusedMBConv(inputs, p) {
  const { name, filtersIn, filtersOut, expandRatio, kernelSize, strides } = p;
  const filters = filtersIn * expandRatio;
  let x = inputs;
  if (expandRatio !== 1) {
    x = conv(x, { filters, kernelSize, strides, padding: 'same', useBias: false, name: `${name}expand_conv` });
    x = batchNorm(x, { ...V2_BN, name: `${name}expand_bn` });
    x = swish(x, `${name}expand_activation`);
  }
  x = v2SqueezeExcite(x, { ...p, filters });
  x = conv(x, {
    filters: filtersOut,
    kernelSize: expandRatio !== 1 ? 1 : kernelSize,
    strides: expandRatio !== 1 ? 1 : strides,
    padding: 'same',
    useBias: false,
    name: `${name}project_conv`,
  });
  x = batchNorm(x, { ...V2_BN, name: `${name}project_bn` });
  if (expandRatio === 1) x = swish(x, `${name}project_activation`);
  return v2Residual(x, inputs, p);
}

/** Builds `keras.applications.EfficientNetV2{B0..B3,S,M,L}(include_top=True)`. */
export function efficientNetV2(variant, { inputShape } = {}) {
  const v = EFFICIENTNETV2_VARIANTS[variant];
  if (!v) throw new Error(`unknown EfficientNetV2 variant '${variant}'`);
  const [widthCoefficient, depthCoefficient, defaultSize] = v;
  const shape = inputShape ?? [defaultSize, defaultSize, 3];
  const blocksArgs = V2_BLOCKS[variant];
  const name = `efficientnetv2-${variant}`;
  // V2's round_filters: max(min_depth, int(f + divisor / 2) // divisor * divisor), without V1's 10% rule.
  const divisor = 8;
  const roundFilters = (f) => Math.max(8, Math.floor(Math.floor(f * widthCoefficient + divisor / 2) / divisor) * divisor);
  const roundRepeats = (r) => Math.ceil(depthCoefficient * r);

  const input = tf.input({ shape, name: 'input_1' });
  let x = input;
  // include_preprocessing: V1's ImageNet normalization for the b variants with 3 channels, else x / 128 - 1.
  if (name.split('-').at(-1).startsWith('b') && shape[2] === 3) {
    x = new KerasRescaling({ scale: 1 / 255, name: 'rescaling' }).apply(x);
    x = new KerasConstantNormalization({
      mean: [0.485, 0.456, 0.406], variance: [0.229 ** 2, 0.224 ** 2, 0.225 ** 2], name: 'normalization',
    }).apply(x);
  } else {
    x = new KerasRescaling({ scale: 1 / 128, offset: -1, name: 'rescaling' }).apply(x);
  }

  x = conv(x, { filters: roundFilters(blocksArgs[0][3]), kernelSize: 3, strides: 2, padding: 'same', useBias: false, name: 'stem_conv' });
  x = batchNorm(x, { ...V2_BN, name: 'stem_bn' });
  x = swish(x, 'stem_activation');

  // Keras divides by the sum of the unscaled num_repeat.
  const blocks = blocksArgs.reduce((s, a) => s + a[2], 0);
  let b = 0;
  blocksArgs.forEach(([convType, kernelSize, numRepeat, inputFilters, outputFilters, expandRatio, stride, seRatio], i) => {
    let filtersIn = roundFilters(inputFilters);
    const filtersOut = roundFilters(outputFilters);
    let strides = stride;
    const block = convType === 1 ? v2FusedMBConv : v2MBConv;
    for (let j = 0; j < roundRepeats(numRepeat); j++) {
      if (j > 0) {
        strides = 1;
        filtersIn = filtersOut;
      }
      x = block(x, {
        name: `block${i + 1}${String.fromCharCode(97 + j)}_`,
        filtersIn, filtersOut, expandRatio, kernelSize, strides, seRatio, survival: (0.2 * b) / blocks,
      });
      b++;
    }
  });

  x = conv(x, { filters: roundFilters(1280), kernelSize: 1, padding: 'same', useBias: false, name: 'top_conv' });
  x = batchNorm(x, { ...V2_BN, name: 'top_bn' });
  x = swish(x, 'top_activation');
  x = tf.layers.globalAveragePooling2d({ name: 'avg_pool' }).apply(x);
  x = tf.layers.dropout({ rate: 0.2, name: 'top_dropout' }).apply(x);
  x = tf.layers.dense({
    units: 1000, activation: 'softmax', name: 'predictions', kernelInitializer: ZERO, biasInitializer: ZERO,
  }).apply(x);
  return tf.model({ inputs: input, outputs: x, name });
}

// ---------------------------------------------------------------------------
// Entry point used by the CLIs
// ---------------------------------------------------------------------------

/** Architectures accepted by `buildModel`. */
export const ARCHS = [
  ...Object.keys(EFFICIENTNET_VARIANTS).map((v) => `efficientnet-${v}`), 'mobilenet', 'mobilenetv2', 'mobilenetv3small',
  'mobilenetv3large', ...Object.keys(RESNET_VARIANTS), ...Object.keys(RESNETV2_VARIANTS),
  ...Object.keys(EFFICIENTNETV2_VARIANTS).map((v) => `efficientnetv2-${v}`),
];

/** Architectures that take --alpha (a width multiplier). */
export const ALPHA_ARCHS = ['mobilenet', 'mobilenetv2', 'mobilenetv3small', 'mobilenetv3large'];

/** Default square input size per architecture. */
export function defaultResolution(arch) {
  const m = /^efficientnet-(b[0-7])$/.exec(arch);
  const v2 = /^efficientnetv2-(b[0-3]|s|m|l)$/.exec(arch);
  if (v2) return EFFICIENTNETV2_VARIANTS[v2[1]][2];
  return m ? EFFICIENTNET_VARIANTS[m[1]][2] : 224;
}

/**
 * Builds a Keras-equivalent model.
 * @param {string} arch one of ARCHS
 * @param {{alpha?: number, depthMultiplier?: number, minimalistic?: boolean, inputShape?: number[]}} options
 *   inputShape is [H, W, 3]; depthMultiplier is MobileNet's, minimalistic MobileNetV3's
 */
export function buildModel(arch, { alpha = 1.0, depthMultiplier = 1, minimalistic = false, inputShape } = {}) {
  const m = /^efficientnet-(b[0-7])$/.exec(arch);
  if (m) return efficientNet(m[1], { inputShape });
  const v2 = /^efficientnetv2-(b[0-3]|s|m|l)$/.exec(arch);
  if (v2) return efficientNetV2(v2[1], { inputShape });
  if (arch === 'mobilenet') return mobileNet({ alpha, depthMultiplier, inputShape });
  if (arch === 'mobilenetv2') return mobileNetV2({ alpha, inputShape });
  if (arch === 'mobilenetv3small') return mobileNetV3('small', { alpha, minimalistic, inputShape });
  if (arch === 'mobilenetv3large') return mobileNetV3('large', { alpha, minimalistic, inputShape });
  if (arch in RESNET_VARIANTS) return resNet(arch, { inputShape });
  if (arch in RESNETV2_VARIANTS) return resNetV2(arch, { inputShape });
  throw new Error(`unknown --arch '${arch}'; expected one of ${ARCHS.join(', ')}`);
}

/** Parameter totals as Keras reports them (trainable, non-trainable, total). */
export function countParams(model) {
  const size = (ws) => ws.reduce((s, w) => s + w.shape.reduce((a, d) => a * d, 1), 0);
  const trainable = size(model.trainableWeights);
  const nonTrainable = size(model.nonTrainableWeights);
  return { total: model.countParams(), trainable, nonTrainable };
}

/** Keras weight name (`layer/weight`) of a tfjs LayerVariable. */
export function kerasWeightName(variable) {
  return variable.originalName;
}

export { tf };
