export { classifierHead, HEAD_LAYER, resnet, transferModel } from './resnet';
export type { ResnetOptions, TransferOptions } from './resnet';
export { collabNeural, dotProductBias, RangeSigmoid, Recommender } from './collab';
export type { CollabOptions, IdMaps } from './collab';
export { CategoricalEmbeddings, embeddingSize, RowPredictor, tabularModel } from './tabular';
export type { CategoricalEmbeddingsConfig, TabularModelOptions, TabularPredictOptions, TabularPrediction } from './tabular';
export { unet, unetFromPretrained } from './unet';
export { batchNormalization } from './batch-norm';
export type { UnetOptions } from './unet';
