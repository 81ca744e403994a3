import { type TaskDefinition } from '@kindling/deploy';
import { CollabPredictor, type CollabTask } from './collab-predictor';
import { TabularPredictor, type TabularTask } from './tabular-predictor';

export type { CollabPredictor, CollabTask, TabularPredictor, TabularTask };

declare module '@kindling/deploy' {
  interface TaskRegistry {
    tabular: TabularTask;
    collab: CollabTask;
  }
  interface PredictorByKind {
    tabular: TabularPredictor;
    collab: CollabPredictor;
  }
}

/**
 * The tabular task for `registerTask`: a bundle's record is checked against its model (a class per target label, or
 * one value for a regression) and its predictor is a `TabularPredictor`. In Node, `@kindling/tabular/node` exports it
 * with its file reader (every row of a CSV file).
 */
export const tabularTask: TaskDefinition<'tabular'> = {
  kind: 'tabular',
  check(task, model, fail) {
    const labels = task.processor?.targetLabels;
    const outputs = model.outputs[0]?.shape.at(-1);
    const expected = labels === undefined ? 1 : labels.length;
    if (expected !== outputs) fail(labels === undefined ? `describes a regression (one value) but the model answers ${outputs}` : `lists ${labels.length} target labels but the model answers ${outputs} classes`);
  },
  createPredictor: (bundle, model) => new TabularPredictor(bundle, model),
};

/** The collaborative-filtering task for `registerTask`: its predictor is a `CollabPredictor` (recommendations). */
export const collabTask: TaskDefinition<'collab'> = {
  kind: 'collab',
  check(task, _model, fail) {
    if (!Array.isArray(task.users) || !Array.isArray(task.items)) fail('lists no users or items');
  },
  createPredictor: (bundle, model) => new CollabPredictor(bundle, model),
};
