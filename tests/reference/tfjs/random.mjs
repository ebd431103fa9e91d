// Seeded pseudo-random numbers for the self-test generators (independent of any other RNG in the repository).

/** 32-bit FNV-1a hash of a string, mixed with a seed. */
export function hashSeed(text, seed) {
  let h = (0x811c9dc5 ^ (seed >>> 0)) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** mulberry32: returns a function giving uniform doubles in [0, 1). */
export function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Float32Array of `count` uniform values in [low, high). */
export function uniformArray(rng, count, low, high) {
  const out = new Float32Array(count);
  const span = high - low;
  for (let i = 0; i < count; i++) out[i] = low + span * rng();
  return out;
}

/**
 * Value range of random inputs per family, matching what the model sees after Keras preprocessing:
 * EfficientNet and MobileNetV3 raw RGB [0, 255) (they rescale inside the model), MobileNet, MobileNetV2 and ResNet v2
 * [-1, 1) ("tf" mode), ResNet v1 [-128, 128) (about "caffe" mode: BGR minus the ImageNet mean).
 */
export function inputRange(arch) {
  // EfficientNet and MobileNetV3 (include_preprocessing) rescale inside the model.
  if (arch.startsWith('efficientnet') || arch.startsWith('mobilenetv3')) return [0, 255];
  // "tf" mode: MobileNet, MobileNetV2 and the ResNet v2 models.
  if (arch === 'mobilenet' || arch === 'mobilenetv2' || arch.endsWith('v2')) return [-1, 1];
  return [-128, 128];
}
