export {
  affineMatrices,
  applyAffine,
  aspectRefusal,
  assertResizeMethod,
  augmentBatch,
  computeStats,
  DECODE_MIN_SIDE,
  decodeSide,
  denormalize,
  drawAffine,
  IMAGENET_STATS,
  mirrorViews,
  elasticDeform,
  normalize,
  pixelsMisfit,
  pixelsToChannels,
  RESIZE_METHODS,
  resizeImage,
  squareBytes,
  squarePixels,
  pictureShape,
} from './transforms';
export type { AffineChoice, AugmentOptions, ElasticOptions, PixelImage, ResizeMethod, Stats } from './transforms';
export { decodeImageInBrowser } from './browser';
export { mirrorCheck } from './mirror-check';
export type { MirrorCheck, MirrorCheckInput } from './mirror-check';
export type { BrowserImageSource } from './browser';
export { colorizeMask, defaultPalette, maskFromPixels, overlayMask, parseCodes, voidIndexOf } from './segmentation';
export type { Colour, MaskDecodeOptions, MaskMode } from './segmentation';
