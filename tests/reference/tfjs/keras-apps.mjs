// Independent TensorFlow.js re-implementation of Keras Applications families
// (EfficientNet B0-B7, MobileNetV2, ResNet50/101/152 v1, EfficientNetV2 B0-B3/S/M/L), written from the Keras
// builder code (keras/src/applications/{efficientnet,mobilenet_v2,resnet,efficientnet_v2}.py).
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

function depthwise(x, { kernelSize, strides = 1, padding = 'valid', name }) {
  return tf.layers.depthwiseConv2d({
    kernelSize, strides, padding, depthMultiplier: 1, useBias: false, name, depthwiseInitializer: ZERO,
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
  ...Object.keys(EFFICIENTNET_VARIANTS).map((v) => `efficientnet-${v}`), 'mobilenetv2', ...Object.keys(RESNET_VARIANTS),
  ...Object.keys(EFFICIENTNETV2_VARIANTS).map((v) => `efficientnetv2-${v}`),
];

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
 * @param {{alpha?: number, inputShape?: number[]}} options inputShape is [H, W, 3]
 */
export function buildModel(arch, { alpha = 1.0, inputShape } = {}) {
  const m = /^efficientnet-(b[0-7])$/.exec(arch);
  if (m) return efficientNet(m[1], { inputShape });
  const v2 = /^efficientnetv2-(b[0-3]|s|m|l)$/.exec(arch);
  if (v2) return efficientNetV2(v2[1], { inputShape });
  if (arch === 'mobilenetv2') return mobileNetV2({ alpha, inputShape });
  if (arch in RESNET_VARIANTS) return resNet(arch, { inputShape });
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
