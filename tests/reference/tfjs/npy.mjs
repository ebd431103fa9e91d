// Minimal .npy reader/writer (NumPy format v1.0 written; v1/v2/v3 read). C order only.
// Writes float32 only; reads little-endian float32/float64/int32/int64/uint8 and converts to Float32Array.

import { readFileSync, writeFileSync } from 'node:fs';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

const READERS = {
  '<f4': [4, (dv, o) => dv.getFloat32(o, true)],
  '<f8': [8, (dv, o) => dv.getFloat64(o, true)],
  '<i4': [4, (dv, o) => dv.getInt32(o, true)],
  '<i8': [8, (dv, o) => Number(dv.getBigInt64(o, true))],
  '|u1': [1, (dv, o) => dv.getUint8(o)],
};

/** Parses a .npy buffer into { shape, data: Float32Array, descr }. */
export function parseNpy(buf, label = '<buffer>') {
  const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) throw new Error(`${label}: not a .npy file`);
  const major = bytes[6];
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen;
  let offset;
  if (major === 1) {
    headerLen = dv.getUint16(8, true);
    offset = 10;
  } else if (major === 2 || major === 3) {
    headerLen = dv.getUint32(8, true);
    offset = 12;
  } else {
    throw new Error(`${label}: unsupported .npy version ${major}`);
  }
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(offset, offset + headerLen));
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) throw new Error(`${label}: bad .npy header ${header}`);
  if (fortran !== 'False') throw new Error(`${label}: fortran_order arrays are not supported`);
  const reader = READERS[descr === '<u1' ? '|u1' : descr];
  if (!reader) throw new Error(`${label}: unsupported dtype '${descr}' (want <f4)`);
  const shape = shapeText.split(',').map((t) => t.trim()).filter((t) => t.length > 0).map(Number);
  const count = shape.reduce((a, d) => a * d, 1);
  const dataStart = offset + headerLen;
  const [size, get] = reader;
  if (bytes.length - dataStart !== count * size) {
    throw new Error(`${label}: expected ${count * size} data bytes for shape (${shape}), found ${bytes.length - dataStart}`);
  }
  let data;
  if (descr === '<f4' && (bytes.byteOffset + dataStart) % 4 === 0) {
    data = new Float32Array(bytes.buffer.slice(bytes.byteOffset + dataStart, bytes.byteOffset + dataStart + count * 4));
  } else {
    data = new Float32Array(count);
    for (let i = 0; i < count; i++) data[i] = get(dv, dataStart + i * size);
  }
  return { shape, data, descr };
}

/** Reads a .npy file into { shape, data: Float32Array, descr }. */
export function readNpy(path) {
  return parseNpy(readFileSync(path), path);
}

/** Encodes a float32 array of the given shape as a v1.0 .npy buffer (header padded to 64 bytes like NumPy). */
export function encodeNpy(data, shape) {
  const count = shape.reduce((a, d) => a * d, 1);
  if (data.length !== count) throw new Error(`encodeNpy: ${data.length} values for shape (${shape})`);
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const out = Buffer.alloc(10 + header.length + count * 4);
  MAGIC.forEach((b, i) => { out[i] = b; });
  out[6] = 1;
  out[7] = 0;
  out.writeUInt16LE(header.length, 8);
  out.write(header, 10, 'latin1');
  const f32 = data instanceof Float32Array ? data : Float32Array.from(data);
  Buffer.from(f32.buffer, f32.byteOffset, f32.byteLength).copy(out, 10 + header.length);
  return out;
}

/** Writes a float32 .npy file. */
export function writeNpy(path, data, shape) {
  writeFileSync(path, encodeNpy(data, shape));
}
