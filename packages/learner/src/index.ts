export { Learner, spreadLearningRates } from './learner';
export type { LearnerOptions } from './learner';
export { CancelError, EVENTS, TAPE_EVENTS } from './events';
export type { Callback, CancelScope, CheckpointStore, EpochRecord, EventHandler, EventName, FitOptions, LearningRates, TrainingHistory, TrainingLoop, TrainingState } from './events';
export { fromFunction, fromLayersModel } from './parameters';
export type { LayersModelOptions, Parameter, TrainableModel } from './parameters';
export { Adam, adam, Optimizer, Sgd, sgd } from './optimizer';
export type { HyperParameters, OptimizerState, SavedTensor } from './optimizer';
export { binaryCrossEntropyLoss, crossEntropyLoss, diceLoss, l1Loss, mseLoss } from './losses';
export type { CrossEntropyOptions, LossFunction } from './losses';
export { accuracy, dice, errorRate, f1Score, iou, mae, mse, precision, r2Score, recall, rmse, topKAccuracy } from './metrics';
export type { ClassMetricOptions, Metric, PerClassMetric } from './metrics';
export { combinedCosine, combineSchedules, cosineSchedule, oneCycleSchedules, paramScheduler } from './schedule';
export type { OneCycleOptions, Schedule } from './schedule';
export { trainingBudget } from './training-budget';
export type { TrainingBudget, TrainingBudgetOptions } from './training-budget';
export type { LrFindOptions, LrFindResult } from './lr-finder';
export { updateBatchNorm } from './batch-norm';
export type { UpdateBatchNormOptions } from './batch-norm';
export { Recorder } from './callbacks/recorder';
export { DistributedError, distributedTrainer, leaderFirst, onLeader } from './distributed';
export type { DistributedTrainer, ProcessGroup } from './distributed';
export {
  averageWeights,
  checkpoint,
  earlyStopping,
  gradientClipping,
  memoryCheckpointStore,
  progress,
  saveBest,
  stopOnNaN,
  validateEvery,
  yieldToEventLoop,
} from './callbacks/training-callbacks';
export type { AverageWeightsOptions, Monitor, MonitorOptions, ProgressEvent } from './callbacks/training-callbacks';
export { ClassificationInterpretation, lossChart, lrFindChart, scheduleChart } from './interpretation';
export type { Chart, TopLoss } from './interpretation';
