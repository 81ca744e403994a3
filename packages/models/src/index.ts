export { classifierHead, HEAD_LAYER, resnet, transferModel } from './resnet';
export type { ResnetOptions, TransferOptions } from './resnet';
