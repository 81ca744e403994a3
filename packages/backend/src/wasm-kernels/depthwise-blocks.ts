/**
 * A depthwise filter [h, w, c, m] as the block-diagonal filter of an ordinary convolution
 * [h', w', c, c·m], dilated by inserting zeros when `dilations` exceed 1.
 */
export function blockDiagonalFilter(
  values: Float32Array,
  [height, width, channels, multiplier]: number[],
  dilationHeight: number,
  dilationWidth: number,
): { values: Float32Array; shape: number[] } {
  const fullHeight = (height! - 1) * dilationHeight + 1;
  const fullWidth = (width! - 1) * dilationWidth + 1;
  const outChannels = channels! * multiplier!;
  const full = new Float32Array(fullHeight * fullWidth * channels! * outChannels);
  for (let i = 0; i < height!; i++) {
    for (let j = 0; j < width!; j++) {
      for (let c = 0; c < channels!; c++) {
        for (let k = 0; k < multiplier!; k++) {
          const source = ((i * width! + j) * channels! + c) * multiplier! + k;
          const target = ((i * dilationHeight * fullWidth + j * dilationWidth) * channels! + c) * outChannels + c * multiplier! + k;
          full[target] = values[source]!;
        }
      }
    }
  }
  return { values: full, shape: [fullHeight, fullWidth, channels!, outChannels] };
}

/** Reads the [h, w, c, c·m] diagonal blocks back into a depthwise filter [h, w, c, m]. */
export function diagonalBlocks(values: Float32Array, [height, width, channels, multiplier]: number[]): Float32Array {
  const outChannels = channels! * multiplier!;
  const result = new Float32Array(height! * width! * channels! * multiplier!);
  for (let position = 0; position < height! * width!; position++) {
    for (let c = 0; c < channels!; c++) {
      for (let k = 0; k < multiplier!; k++) {
        result[(position * channels! + c) * multiplier! + k] = values[(position * channels! + c) * outChannels + c * multiplier! + k]!;
      }
    }
  }
  return result;
}
