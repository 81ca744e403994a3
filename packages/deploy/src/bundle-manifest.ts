import type { TaskSpec } from './tasks';

/**
 * What a bundle is, as types and the names of its files: the predictors, the registry and the adapters read these,
 * and `bundle.ts` (which checks a bundle's task against the registry) builds on them, so no module needs itself.
 */

/** The files of a bundle: the manifest, the tfjs topology and the weights. */
export const BUNDLE_FILES = { manifest: 'kindling.json', model: 'model.json', weights: 'weights.bin' } as const;

/** `kindling.json`: what the model is for, how to feed it, how well it did, and checksums of its files. */
export interface BundleManifest {
  format: 'kindling-bundle';
  formatVersion: number;
  /** The @kindling/deploy version that wrote it. */
  kindlingVersion: string;
  task: TaskSpec;
  /** Validation (and test) figures from training, for people and the model-info endpoint. */
  metrics: Record<string, unknown>;
  /** How it was trained (epochs, learning rate, architecture…): free-form, for people. */
  training: Record<string, unknown>;
  createdAt: string;
  /** SHA-256 and size of `model.json` and `weights.bin`, checked on every load. */
  files: Record<(typeof BUNDLE_FILES)['model' | 'weights'], { sha256: string; bytes: number }>;
  /**
   * SHA-256 of the task (labels, preprocessing…) as canonical JSON, checked on every load, so an edited
   * or damaged `kindling.json` is refused instead of answering with wrong labels. Every bundle a released Kindling
   * wrote has it: one without it is refused (removing it was a way past the check).
   */
  taskSha256: string;
}

/**
 * A trained model with everything needed to use it, as three files held in memory. Every adapter
 * (directory, URL, IndexedDB, downloads) moves exactly these bytes.
 */
export interface Bundle {
  manifest: BundleManifest;
  /** `model.json` (tfjs layers-model topology and weight manifest) as written. */
  modelJson: Uint8Array;
  /** `weights.bin`. */
  weights: Uint8Array;
}
