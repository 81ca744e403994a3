import { startBackend, type BackendFlags } from './backend-flags';
import { ConfigError, DataError } from '@kindling/data';
import { colorizeMask } from '@kindling/image';
import { encodePng } from '@kindling/image/node';
import { writeFileAtomic } from '@kindling/learner/node';
import type { AnyPredictor } from '@kindling/deploy';
import type { SegmentationResult } from '@kindling/image/predict';
import { loadPredictor, readInputFile, type FileInput } from '@kindling/deploy/node';
import { serve } from '@kindling/deploy/server';
import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { registerModalities } from './modalities';

registerModalities();

export interface PredictOptions extends BackendFlags {
  /** Print one JSON object per line instead of a short summary. */
  json?: boolean;
  /** Segmentation: write each mask as a coloured PNG here. */
  out?: string;
  /** How many classes a classifier's answer lists in `top` (default 5). */
  topK?: number;
  quiet?: boolean;
}

export interface PredictResult {
  input: string;
  prediction: unknown;
}

/** Reads each argument as the task's input: a file (as its task kind reads files: `readInputFile`) or inline JSON. */
async function readInputs(predictor: AnyPredictor, argument: string): Promise<FileInput[]> {
  if (existsSync(argument)) return readInputFile(predictor, argument);
  let value: unknown;
  try {
    value = JSON.parse(argument);
  } catch {
    throw new DataError(`no such file, and not JSON either (a ${predictor.kind} model reads ${predictor.describeInput()})`, { file: argument });
  }
  return [{ name: argument, input: predictor.inputFromJson(value) }];
}

/** One line per answer; an answer the bundle marks "not sure" says so first, with the reason. */
function summary(prediction: unknown): string {
  const value = prediction as Record<string, unknown>;
  const answer = plainSummary(value);
  return typeof value.notSure === 'string' ? `not sure (${value.notSure}); best guess ${answer}` : answer;
}

function plainSummary(value: Record<string, unknown>): string {
  if (typeof value.label === 'string' && typeof value.confidence === 'number') return `${value.label} (${(value.confidence * 100).toFixed(1)}%)${typeof value.windows === 'number' ? ` from ${value.windows} window(s)` : ''}`;
  if (value.kind === 'classification') {
    const probabilities = value.probabilities as Record<string, number>;
    return `${value.label} (${((probabilities[value.label as string] ?? 0) * 100).toFixed(1)}%)`;
  }
  if (value.kind === 'regression') return (value.value as number).toPrecision(5);
  if (value.kind === 'score') return `${value.user} → ${value.item}: ${(value.score as number).toFixed(3)}`;
  if (value.kind === 'items') return (value.items as Array<{ item: string; score: number }>).map((entry) => `${entry.item} (${entry.score.toFixed(2)})`).join(', ');
  if (value.mask !== undefined) {
    const coverage = Object.entries(value.coverage as Record<string, number>).filter(([, share]) => share > 0);
    return coverage.map(([code, share]) => `${code} ${(share * 100).toFixed(1)}%`).join(', ');
  }
  return JSON.stringify(value);
}

/** `kindling predict <bundle> <input...>`: loads a bundle and prints its answer for each input. */
export async function predict(bundle: string, inputs: string[], options: PredictOptions): Promise<PredictResult[]> {
  if (inputs.length === 0) throw new ConfigError('give at least one input: a file, or inline JSON');
  await startBackend(options, options.quiet || options.json);
  const predictor = await loadPredictor(resolve(bundle), { topK: options.topK });
  try {
    const items = (await Promise.all(inputs.map((argument) => readInputs(predictor, argument)))).flat();
    const results: PredictResult[] = [];
    // batches of 64 inputs per model call
    for (let start = 0; start < items.length; start += 64) {
      const chunk = items.slice(start, start + 64);
      const predictions = await predictor.predictBatch(chunk.map((item) => item.input) as never[]);
      chunk.forEach((item, index) => results.push({ input: item.name, prediction: predictions[index] }));
    }
    for (const { input, prediction } of results) {
      if (predictor.kind === 'segmentation' && options.out !== undefined) {
        const { mask, width, height } = prediction as SegmentationResult;
        const file = join(resolve(options.out), `${basename(input).replace(/\.[^.]+$/, '')}.mask.png`);
        await writeFileAtomic(file, await encodePng({ data: colorizeMask(mask, predictor.task.palette), shape: [height, width, 3] }));
      }
      if (options.quiet) continue;
      if (options.json) console.log(JSON.stringify({ input, prediction: predictor.kind === 'segmentation' ? { ...(prediction as SegmentationResult), mask: Array.from((prediction as SegmentationResult).mask), confidenceMap: Array.from((prediction as SegmentationResult).confidenceMap) } : prediction }));
      else console.log(`${input}\t${summary(prediction)}`);
    }
    return results;
  } finally {
    predictor.dispose();
  }
}

export interface ServeCommandOptions extends BackendFlags {
  port: number;
  host: string;
  bodyLimit: number;
  batching: boolean;
  maxBatch: number;
  maxConcurrent?: number;
  maxQueue?: number;
  maxBodyBytesInFlight?: number;
  prepareThreads?: number;
  /** How many classes a classifier's answer lists in `top` (default 5). */
  topK?: number;
  headersTimeout?: number;
  requestTimeout?: number;
  shutdownTimeout?: number;
  token?: string;
  cors?: string;
  allowedHost?: string;
  rateLimit?: number;
}

/** `kindling serve <bundle>`: the prediction server, until Ctrl-C. */
export async function serveBundle(bundle: string, options: ServeCommandOptions): Promise<{ url: string; close(): Promise<void> }> {
  await startBackend(options);
  const predictor = await loadPredictor(resolve(bundle), { topK: options.topK });
  const server = await serve(predictor, {
    port: options.port,
    host: options.host,
    bodyLimit: options.bodyLimit,
    batching: options.batching ? { maxBatch: options.maxBatch } : false,
    maxConcurrent: options.maxConcurrent,
    maxQueue: options.maxQueue,
    maxBodyBytesInFlight: options.maxBodyBytesInFlight,
    prepareThreads: options.prepareThreads,
    timeouts: { headers: options.headersTimeout, request: options.requestTimeout },
    shutdownTimeout: options.shutdownTimeout,
    rateLimit: options.rateLimit === undefined ? undefined : { max: options.rateLimit },
    token: options.token ?? (process.env.KINDLING_TOKEN || undefined),
    corsOrigins: options.cors === undefined ? undefined : options.cors.trim() === '*' ? '*' : options.cors.split(',').map((origin) => origin.trim()).filter((origin) => origin !== ''),
    allowedHosts: options.allowedHost === undefined ? undefined : options.allowedHost.trim() === '*' ? '*' : options.allowedHost.split(',').map((name) => name.trim()).filter((name) => name !== ''),
    onClose: ({ forced }) =>
      console.log(forced ? `stopped: requests still unfinished after ${options.shutdownTimeout ?? 10_000} ms were cut off; the model is freed` : 'stopped: finished the requests in flight and freed the model'),
  });
  console.log(`serving the ${predictor.kind} model from ${resolve(bundle)} at ${server.url}`);
  console.log(`  GET  ${server.url}/health   GET  ${server.url}/info   POST ${server.url}/predict (${predictor.describeInput()})`);
  return server;
}
