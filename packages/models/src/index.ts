export { classifierHead, HEAD_LAYER, resnet, transferModel } from './resnet';
export type { ResnetOptions, TransferOptions } from './resnet';
export { unet, unetFromPretrained } from './unet';
export { batchNormalization } from './batch-norm';
export type { UnetOptions } from './unet';
