export { CollabPredictor } from './collab-predictor';
export type { CollabAnswer, CollabQuery, CollabTask } from './collab-predictor';
export { TabularPredictor } from './tabular-predictor';
export type { TabularAnswer, TabularTask } from './tabular-predictor';
export { collabTask, tabularTask } from './tasks';
