import { ConfigError } from '@kindling/data';
import { checkpoint, earlyStopping, saveBest, type Callback, type CheckpointStore, type ProcessGroup } from '@kindling/learner';
import { checkWritableFolder } from '@kindling/data/node';
import { fileCheckpointStore, writeFileAtomic } from '@kindling/learner/node';
import { readdir, readFile, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { namer, text, toggle, wholeNumber, type OptionDescription, type OptionNamer } from './options';

/** The settings every recipe shares: a checkpoint after every epoch, resuming from it, and stopping early. */
export const CHECKPOINT_OPTIONS = {
  checkpoint: text({ help: 'save the training state here after every epoch (with its settings beside it, in <file>.plan.json)', placeholder: 'file' }),
  resume: {
    ...toggle({ help: 'continue the run saved in --checkpoint (same settings) instead of starting over', default: false }),
    problem: (value: unknown) => (typeof value === 'boolean' || value === 'if-saved' ? undefined : `must be true, false or 'if-saved', not ${String(value)}`),
  } as OptionDescription<boolean | 'if-saved', true>,
  earlyStop: wholeNumber({
    help: 'stop when the validation loss has not improved for this many epochs, and keep the weights of the epoch where it was lowest (default: every epoch, the last weights)',
    placeholder: 'epochs',
    unit: 'epochs',
  }),
};

/** A checkpoint after every epoch, resuming from it, and stopping early: the settings every recipe takes. */
export interface CheckpointFlags {
  checkpoint?: string;
  /**
   * Continue the run saved in `checkpoint`; `'if-saved'` continues it when the file holds a checkpoint and starts
   * over when it does not (what `kindling train` does under a launcher, which restarts failed workers with the same
   * command: torchrun's restarts, a PyTorchJob's pods).
   */
  resume?: boolean | 'if-saved';
  /**
   * Stop when the validation loss has not improved for this many epochs, and end with the weights of the epoch
   * whose validation loss was lowest (its figures are the run's). Default: every epoch, the last one's weights.
   */
  earlyStop?: number;
}

/**
 * The checkpoint callback and the resume point for a fit. The checkpoint file gets a `.plan.json`
 * beside it (the run's settings: task, data size, epochs, learning rate, batch size, seed…); resuming
 * refuses a checkpoint whose plan differs, naming what changed, since continuing it would silently give
 * a model that neither plan describes.
 */
export async function checkpointing(flags: CheckpointFlags & { log?: (line: string) => void; group?: ProcessGroup; optionName?: OptionNamer }, plan: Record<string, unknown>): Promise<{ callbacks: Callback[]; resumeFrom?: CheckpointStore }> {
  const name = namer(flags);
  if (flags.resume === true && flags.checkpoint === undefined) throw new ConfigError(`${name('resume')} needs ${name('checkpoint')} <file>: the checkpoint to continue from`);
  // in data-parallel training every worker resumes from the file, and only rank 0 writes it
  const leads = flags.group === undefined || flags.group.rank === 0;
  const say = (leads ? flags.log : undefined) ?? (() => {});
  const stopping = flags.earlyStop === undefined ? [] : earlyStop(flags.earlyStop, say, name);
  if (stopping.length > 0 && flags.resume === true) throw new ConfigError(`${name('earlyStop')} cannot ${name('resume')}: the best epoch's weights are not in the checkpoint; start the run again without ${name('resume')}`);
  if (flags.checkpoint === undefined) return { callbacks: stopping };
  const file = resolve(flags.checkpoint);
  const planFile = `${file}.plan.json`;
  const store = fileCheckpointStore(file);
  const settings = JSON.parse(JSON.stringify(plan)) as Record<string, unknown>;
  // what the data is now, so a resume after the files changed is refused (their paths alone would pass)
  for (const key of ['data', 'masks', 'labels']) {
    const path = settings[key];
    if (typeof path === 'string' && path !== 'generated') settings[`${key}Files`] = await fingerprint(resolve(path));
  }
  const saving = leads ? [checkpoint(store)] : [];
  let resume = flags.resume === true;
  if (flags.resume === 'if-saved' && stopping.length > 0) say(`starting over: a run with ${name('earlyStop')} cannot resume from ${flags.checkpoint}`);
  if (flags.resume === 'if-saved' && stopping.length === 0) {
    const saved = await store.load();
    resume = saved !== undefined;
    if (resume) say(`resuming from ${flags.checkpoint}: ${saved!.epoch + 1} of ${saved!.epochs} epochs were done (under a launcher a run goes on from its ${name('checkpoint')})`);
  }
  if (!resume) {
    if (leads) await writeFileAtomic(planFile, JSON.stringify(settings, null, 2));
    return { callbacks: [...stopping, ...saving] };
  }
  let saved: Record<string, unknown>;
  try {
    saved = JSON.parse(await readFile(planFile, 'utf8'));
  } catch (error) {
    throw new ConfigError(`${name('resume')}: cannot read ${planFile} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); was the run started with ${name('checkpoint')} ${flags.checkpoint}?`);
  }
  const changed = [...new Set([...Object.keys(saved), ...Object.keys(settings)])].filter((key) => JSON.stringify(saved[key]) !== JSON.stringify(settings[key]));
  if (changed.length > 0) {
    throw new ConfigError(`${name('resume')}: the run in ${flags.checkpoint} was started with other settings (${changed.map((key) => `${key}: ${JSON.stringify(saved[key])} then, ${JSON.stringify(settings[key])} now`).join('; ')}); start it again without ${name('resume')}, or use the same settings`);
  }
  const state = await store.load();
  if (state === undefined) throw new ConfigError(`${name('resume')}: no checkpoint in ${flags.checkpoint} yet (the run stopped before its first epoch ended); start it again without ${name('resume')}`);
  if (state.epochs !== settings.epochs) throw new ConfigError(`${name('resume')}: the checkpoint is of a ${state.epochs}-epoch run, not ${String(settings.epochs)}`);
  return { callbacks: saving, resumeFrom: store };
}

/** Settings that do not change what is trained: where it is written, how it is shown, where it runs. */
const NOT_PLAN = new Set(['out', 'quiet', 'backend', 'threads', 'checkpoint', 'resume', 'debug', 'log', 'warn', 'callbacks', 'group', 'rendezvousTimeout', 'optionName']);

/** A run's plan: the command, the data it reads, and every flag that changes the training. */
export function planOf(command: string, data: string | undefined, options: object): Record<string, unknown> {
  return { command, data: data === undefined ? 'generated' : resolve(data), ...Object.fromEntries(Object.entries(options).filter(([key]) => !NOT_PLAN.has(key))) };
}

/**
 * Stopping early: fastai's EarlyStoppingCallback with SaveModelCallback, on the validation loss, and a line
 * saying where the run stopped and which epoch's weights it kept.
 */
function earlyStop(patience: number, say: (line: string) => void, name: OptionNamer): Callback[] {
  const problem = CHECKPOINT_OPTIONS.earlyStop.problem(patience);
  if (problem !== undefined) throw new ConfigError(`${name('earlyStop')} ${problem}`);
  const stopper = earlyStopping({ patience });
  const best = saveBest();
  const report: Callback = {
    name: 'earlyStopReport',
    order: 75, // after saveBest has put the best weights back
    afterFit(learner) {
      if (best.bestEpoch === undefined) return;
      const ran = learner.recorder.epochs.length;
      const stopped = stopper.stoppedAt === undefined ? `ran all ${ran} epochs` : `stopped after epoch ${stopper.stoppedAt + 1} of ${learner.epochs} (no lower validation loss for ${patience} epoch${patience === 1 ? '' : 's'})`;
      say(`early stopping: ${stopped}; the model keeps epoch ${best.bestEpoch + 1}'s weights (validation loss ${best.best!.toFixed(4)}, the lowest)`);
    },
  };
  return [stopper, best, report];
}

/** Room a run needs where it writes: a bundle, its charts and a checkpoint of Kindling's models fit with room to spare. */
const OUTPUT_BYTES = 64 * 2 ** 20;

/**
 * Before any data is read or anything trained: the folders the run will write (`out`, and `checkpoint`'s) take a
 * file and have room, so a read-only or full disk is one line at the start instead of an error after the whole
 * training. Checked by the worker that writes (rank 0 in a group); the folders are left as they were.
 */
export async function checkOutputs(options: { out: string; checkpoint?: string; group?: ProcessGroup; optionName?: OptionNamer }): Promise<void> {
  if (options.group !== undefined && options.group.rank !== 0) return;
  const name = namer(options);
  await checkWritableFolder(resolve(options.out), { what: `${name('out')} ${options.out}`, needBytes: OUTPUT_BYTES });
  if (options.checkpoint !== undefined) await checkWritableFolder(dirname(resolve(options.checkpoint)), { what: `${name('checkpoint')} ${options.checkpoint}`, needBytes: OUTPUT_BYTES });
}

/**
 * A path's files as one line: how many, their bytes, the latest change (`3 files, 10,240 bytes, last changed
 * 2026-12-06T19:00:00.000Z`). A folder is walked through its links (a loop once); what cannot be read counts as missing.
 */
async function fingerprint(path: string): Promise<string> {
  let files = 0;
  let bytes = 0;
  let latest = 0;
  const seen = new Set<string>();
  const walk = async (current: string): Promise<void> => {
    const info = await stat(current).catch(() => undefined);
    if (info === undefined) return;
    const key = `${info.dev}:${info.ino}`;
    if (seen.has(key)) return;
    seen.add(key);
    if (info.isDirectory()) {
      for (const name of (await readdir(current).catch(() => [] as string[])).sort()) await walk(resolve(current, name));
      return;
    }
    files++;
    bytes += info.size;
    latest = Math.max(latest, info.mtimeMs);
  };
  await walk(path);
  if (files === 0) return 'no files';
  return `${files.toLocaleString('en-US')} file${files === 1 ? '' : 's'}, ${bytes.toLocaleString('en-US')} bytes, last changed ${new Date(latest).toISOString()}`;
}
