import * as tf from '@tensorflow/tfjs';
import type { Parameter } from './parameters';

/** Hyper-parameters of one parameter group; schedules change them between steps. */
export interface HyperParameters {
  lr: number;
  /** Adam's β1 / SGD's momentum: the one-cycle schedule cycles it. */
  momentum: number;
  /** Adam's β2. */
  squareMomentum: number;
  epsilon: number;
  /** Decoupled (AdamW-style) weight decay: weights shrink by `lr · weightDecay` each step, apart from the gradient. */
  weightDecay: number;
}

export interface SavedTensor {
  shape: number[];
  values: Float32Array;
}

/** Optimizer state in parameter order, for checkpoints. */
export interface OptimizerState {
  kind: string;
  hyper: HyperParameters[];
  slots: Array<{ step: number; tensors: SavedTensor[] } | null>;
}

interface Slot {
  step: number;
  tensors: tf.Variable[];
}

/**
 * A fastai-style optimizer over parameter groups, each with its own hyper-parameters (discriminative
 * learning rates). Its state is plain tensors it owns, so it can be saved, restored and disposed.
 */
export abstract class Optimizer {
  abstract readonly kind: string;
  hyper: HyperParameters[] = [];
  /** @internal each parameter's state tensors (moments, velocity) */
  protected readonly slots = new Map<tf.Variable, Slot>();

  constructor(readonly defaults: HyperParameters) {}

  /** Makes sure there are `groups` sets of hyper-parameters (new ones start from the defaults). */
  setGroupCount(groups: number): void {
    while (this.hyper.length < groups) this.hyper.push({ ...this.defaults });
    this.hyper.length = groups;
  }

  /** Sets one hyper-parameter, for every group (a number) or per group (an array). */
  set<K extends keyof HyperParameters>(key: K, value: number | readonly number[]): void {
    this.hyper.forEach((group, index) => {
      group[key] = typeof value === 'number' ? value : (value[index] ?? value[value.length - 1]!);
    });
  }

  protected abstract slotCount(): number;
  /** @internal one parameter's update from its gradient and state */
  protected abstract update(parameter: tf.Variable, gradient: tf.Tensor, slot: Slot, hyper: HyperParameters): void;

  /** Applies one step to every parameter that has a gradient. */
  step(groups: Parameter[][], gradients: tf.NamedTensorMap): void {
    groups.forEach((group, index) => {
      const hyper = this.hyper[index] ?? this.defaults;
      for (const parameter of group) {
        const gradient = gradients[parameter.variable.name];
        if (gradient === undefined || !parameter.trainable) continue;
        let slot = this.slots.get(parameter.variable);
        if (slot === undefined) {
          slot = {
            step: 0,
            tensors: Array.from({ length: this.slotCount() }, () => tf.tidy(() => tf.variable(tf.zerosLike(parameter.variable), false))),
          };
          this.slots.set(parameter.variable, slot);
        }
        slot.step += 1;
        tf.tidy(() => this.update(parameter.variable, gradient, slot, hyper));
      }
    });
  }

  /** The optimizer's state, read from the backend without blocking it (a synchronous read stalls a GPU). */
  async save(parameters: Parameter[]): Promise<OptimizerState> {
    const slots = await Promise.all(
      parameters.map(async (parameter) => {
        const slot = this.slots.get(parameter.variable);
        if (slot === undefined) return null;
        const values = await Promise.all(slot.tensors.map((tensor) => tensor.data<'float32'>()));
        return { step: slot.step, tensors: slot.tensors.map((tensor, index) => ({ shape: tensor.shape, values: values[index]! })) };
      }),
    );
    return { kind: this.kind, hyper: this.hyper.map((group) => ({ ...group })), slots };
  }

  load(parameters: Parameter[], state: OptimizerState): void {
    if (state.kind !== this.kind) throw new Error(`optimizer state is for ${state.kind}, not ${this.kind}`);
    if (state.slots.length !== parameters.length) {
      throw new Error(`optimizer state has ${state.slots.length} parameters, the model ${parameters.length}`);
    }
    this.dispose();
    this.hyper = state.hyper.map((group) => ({ ...group }));
    parameters.forEach((parameter, index) => {
      const saved = state.slots[index];
      if (!saved) return;
      this.slots.set(parameter.variable, {
        step: saved.step,
        tensors: saved.tensors.map((tensor) => tf.tidy(() => tf.variable(tf.tensor(tensor.values, tensor.shape), false))),
      });
    });
  }

  /** Frees the optimizer's state tensors. */
  dispose(): void {
    for (const slot of this.slots.values()) tf.dispose(slot.tensors);
    this.slots.clear();
  }
}

/** Adam with decoupled weight decay (AdamW), bias-corrected with the current β1 as in fastai. */
export class Adam extends Optimizer {
  readonly kind = 'adam';

  protected slotCount(): number {
    return 2;
  }

  /** @internal */
  protected update(parameter: tf.Variable, gradient: tf.Tensor, slot: Slot, hyper: HyperParameters): void {
    const [average, squareAverage] = slot.tensors as [tf.Variable, tf.Variable];
    const { lr, momentum, squareMomentum, epsilon, weightDecay } = hyper;
    average.assign(average.mul(momentum).add(gradient.mul(1 - momentum)));
    squareAverage.assign(squareAverage.mul(squareMomentum).add(gradient.square().mul(1 - squareMomentum)));
    const debias1 = 1 - momentum ** slot.step;
    const debias2 = 1 - squareMomentum ** slot.step;
    const stepValue = average.div(debias1).div(squareAverage.div(debias2).sqrt().add(epsilon)).mul(lr);
    const decayed = weightDecay === 0 ? parameter : parameter.mul(1 - lr * weightDecay);
    parameter.assign(decayed.sub(stepValue));
  }
}

/** SGD with (optional) momentum and decoupled weight decay. */
export class Sgd extends Optimizer {
  readonly kind = 'sgd';

  protected slotCount(): number {
    return this.defaults.momentum > 0 ? 1 : 0;
  }

  /** @internal */
  protected update(parameter: tf.Variable, gradient: tf.Tensor, slot: Slot, hyper: HyperParameters): void {
    const { lr, momentum, weightDecay } = hyper;
    let direction: tf.Tensor = gradient;
    const velocity = slot.tensors[0];
    if (velocity !== undefined) {
      velocity.assign(velocity.mul(momentum).add(gradient));
      direction = velocity;
    }
    const decayed = weightDecay === 0 ? parameter : parameter.mul(1 - lr * weightDecay);
    parameter.assign(decayed.sub(direction.mul(lr)));
  }
}

export function adam(options: Partial<HyperParameters> = {}): Adam {
  return new Adam({ lr: 1e-3, momentum: 0.9, squareMomentum: 0.99, epsilon: 1e-5, weightDecay: 0.01, ...options });
}

export function sgd(options: Partial<HyperParameters> = {}): Sgd {
  return new Sgd({ lr: 1e-2, momentum: 0.9, squareMomentum: 0, epsilon: 0, weightDecay: 0, ...options });
}
