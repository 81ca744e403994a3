export {
  affineMatrices,
  applyAffine,
  assertResizeMethod,
  augmentBatch,
  computeStats,
  denormalize,
  drawAffine,
  IMAGENET_STATS,
  mirrorViews,
  elasticDeform,
  normalize,
  RESIZE_METHODS,
  resizeImage,
} from './transforms';
export type { AffineChoice, AugmentOptions, ElasticOptions, ResizeMethod, Stats } from './transforms';
export { decodeImageInBrowser } from './browser';
export { mirrorCheck } from './mirror-check';
export type { MirrorCheck, MirrorCheckInput } from './mirror-check';
export type { BrowserImageSource } from './browser';
export { colorizeMask, defaultPalette, maskFromPixels, overlayMask, parseCodes, voidIndexOf } from './segmentation';
export type { Colour, MaskDecodeOptions, MaskMode } from './segmentation';
