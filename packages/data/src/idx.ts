import { DataError } from './errors';

const IDX_TYPES: Record<number, { bytes: number; read: (view: DataView, offset: number) => number }> = {
  0x08: { bytes: 1, read: (view, offset) => view.getUint8(offset) },
  0x09: { bytes: 1, read: (view, offset) => view.getInt8(offset) },
  0x0b: { bytes: 2, read: (view, offset) => view.getInt16(offset) },
  0x0c: { bytes: 4, read: (view, offset) => view.getInt32(offset) },
  0x0d: { bytes: 4, read: (view, offset) => view.getFloat32(offset) },
  0x0e: { bytes: 8, read: (view, offset) => view.getFloat64(offset) },
};

/** Parses an IDX file (MNIST, Fashion-MNIST): its shape and values. Unsigned bytes stay a Uint8Array. */
export function parseIdx(bytes: Uint8Array, source = 'IDX data'): { shape: number[]; data: Uint8Array | Float32Array | Int32Array } {
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0) throw new DataError('not an IDX file (bad magic number)', { file: source });
  const type = IDX_TYPES[bytes[2]!];
  if (type === undefined) throw new DataError(`unknown IDX element type 0x${bytes[2]!.toString(16)}`, { file: source });
  const rank = bytes[3]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 4 + rank * 4) throw new DataError('IDX header is truncated', { file: source });
  const shape = Array.from({ length: rank }, (_, i) => view.getUint32(4 + i * 4));
  const count = shape.reduce((a, b) => a * b, 1);
  const offset = 4 + rank * 4;
  if (bytes.length < offset + count * type.bytes) {
    throw new DataError(`IDX data is truncated: expected ${count} values of ${type.bytes} bytes for shape [${shape}]`, { file: source });
  }
  if (bytes[2] === 0x08) return { shape, data: bytes.slice(offset, offset + count) };
  const data = bytes[2] === 0x0d || bytes[2] === 0x0e ? new Float32Array(count) : new Int32Array(count);
  for (let i = 0; i < count; i++) data[i] = type.read(view, offset + i * type.bytes);
  return { shape, data };
}
