/**
 * Recipes: the few lines that turn data into a trained model, as fastai's `vision_learner` and `unet_learner` do —
 * a model sized by the data, its loss and metrics, and the Learner — plus the checks every run ends with. Runs in
 * Node and in browsers; the whole-run recipes that read folders and write bundles are in `@kindling/recipes/node`.
 *
 * @packageDocumentation
 */
export { ARCHITECTURES, architectureWidths, classifierLearner, imageLearner, pointerLearner, segmentationLearner, soundLearner, visionLearner } from './learners';
export type { ClassifierData, ClassifierLearner, ClassifierLearnerOptions, SegmentationLearnerOptions } from './learners';
export { beatsBaseline, finishedEpoch, majorityOf, meanBaselineRmse, NO_BETTER_THAN_BASELINE, TrainingError } from './outcome';
export { choice, OptionProblem, realNumber, settle, text, toggle, wholeNumber, wholeNumbers, yesNoAuto } from './options';
export type { NumberShape, OptionDescription, OptionDescriptions, OptionNamer, OptionsGiven, OptionsSettled } from './options';
