/**
 * `kindling serve`: a predictor behind an HTTP server (Fastify). JSON, binary and multipart inputs,
 * `/health` and `/info`, body limits, a 4xx with a message for every bad request, concurrent requests
 * batched into one model call, and a graceful close.
 */
import multipart from '@fastify/multipart';
import { ConfigError, DataError } from '@kindling/data';
import { colorizeMask } from '@kindling/image';
import { encodePng } from '@kindling/image/node';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyRequest } from 'fastify';
import { MicroBatcher } from './batcher';
import { InputError } from './errors';
import type { SegmentationResult } from './image-predictor';
import type { AnyPredictor } from './load-predictor';

export interface ServerOptions {
  /** Largest request body in bytes (JSON, binary, or all files of a multipart request). Default 10 MiB. */
  bodyLimit?: number;
  /** Most inputs in one request. Default 64. */
  maxInputs?: number;
  /**
   * Batch concurrent requests into one model call (default on: up to 32, gathered without waiting),
   * or `false` for one call per request. `maxDelayMs` > 0 waits that long for more.
   */
  batching?: false | { maxBatch?: number; maxDelayMs?: number };
  /** Fastify's logger (pino): `true` for JSON request logs. Default off. */
  logger?: boolean;
}

const BINARY_TYPES = /^(image\/|audio\/|application\/octet-stream)/;

/** Typed arrays become plain arrays so answers serialize as JSON. */
function jsonSafe(value: unknown): unknown {
  if (ArrayBuffer.isView(value)) return Array.from(value as Uint8Array);
  if (Array.isArray(value)) return value.map(jsonSafe);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, entry]) => [key, jsonSafe(entry)]));
  return value;
}

/** The server, not yet listening (`app.inject` for tests, `app.listen` to serve; or use {@link serve}). */
export async function createServer(predictor: AnyPredictor, options: ServerOptions = {}): Promise<FastifyInstance & { batcher?: MicroBatcher<unknown, unknown> }> {
  const bodyLimit = options.bodyLimit ?? 10 * 1024 * 1024;
  const maxInputs = options.maxInputs ?? 64;
  const app = Fastify({ bodyLimit, logger: options.logger ?? false, forceCloseConnections: 'idle' });
  const model = predictor as unknown as { prepare(input: unknown): Promise<unknown>; run(prepared: unknown[]): Promise<unknown[]>; inputFromJson(value: unknown): unknown };
  const batcher = options.batching === false ? undefined : new MicroBatcher<unknown, unknown>((items) => model.run(items), { maxBatch: options.batching?.maxBatch ?? 32, maxDelayMs: options.batching?.maxDelayMs ?? 0 });
  const predictMany = async (inputs: unknown[]): Promise<unknown[]> => {
    if (inputs.length === 0) throw new InputError('no inputs in the request', 'body');
    if (inputs.length > maxInputs) throw new InputError(`${inputs.length} inputs in one request; the limit is ${maxInputs}`, 'body');
    const prepared = await Promise.all(inputs.map((input) => model.prepare(input)));
    return batcher ? Promise.all(prepared.map((item) => batcher.submit(item))) : model.run(prepared);
  };

  await app.register(multipart, { limits: { fileSize: bodyLimit, files: maxInputs, fields: 16, fieldSize: 1024 * 1024, parts: maxInputs + 16 } });
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser(BINARY_TYPES, { parseAs: 'buffer', bodyLimit }, (_request, body, done) => done(null, body));

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const mistake = error instanceof InputError || error instanceof DataError || error instanceof ConfigError;
    const status = mistake ? 400 : error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    if (status === 500) request.log.error(error);
    reply.status(status).send({ error: status === 500 ? 'internal error: the server could not answer this request' : error.message, statusCode: status });
  });
  app.setNotFoundHandler((request, reply) => {
    reply.status(404).send({ error: `no route ${request.method} ${request.url}: try GET /health, GET /info or POST /predict`, statusCode: 404 });
  });

  app.get('/health', async () => ({ status: 'ok', task: predictor.kind }));
  app.get('/info', async () => predictor.info());

  app.post('/predict', async (request, reply) => {
    const wantsPng = predictor.kind === 'segmentation' && (request.headers.accept ?? '').includes('image/png');
    let inputs: unknown[];
    let names: string[] | undefined;
    let batch = false;
    if (request.isMultipart()) {
      ({ inputs, names } = await multipartInputs(request, bodyLimit));
      batch = true;
    } else if (Buffer.isBuffer(request.body)) {
      inputs = [new Uint8Array(request.body.buffer, request.body.byteOffset, request.body.byteLength)];
    } else {
      const body = request.body as unknown;
      if (body === undefined || body === null) throw new InputError('the request has no body: send JSON, a file (image/*, audio/*, application/octet-stream) or multipart/form-data', 'body');
      const list = Array.isArray(body) ? body : typeof body === 'object' && Array.isArray((body as { inputs?: unknown }).inputs) ? (body as { inputs: unknown[] }).inputs : undefined;
      batch = list !== undefined;
      inputs = (list ?? [body]).map((value) => model.inputFromJson(value));
    }
    const predictions = await predictMany(inputs);
    if (wantsPng && predictions.length === 1) {
      const { mask, width, height } = predictions[0] as SegmentationResult;
      const colours = colorizeMask(mask, (predictor as { task: { palette: Array<readonly [number, number, number]> } }).task.palette);
      reply.type('image/png');
      return Buffer.from(await encodePng({ data: colours, shape: [height, width, 3] }));
    }
    if (!batch) return { prediction: jsonSafe(predictions[0]) };
    return { predictions: predictions.map((prediction, index) => (names ? { file: names[index], ...(jsonSafe(prediction) as object) } : jsonSafe(prediction))) };
  });

  app.addHook('onClose', async () => {
    predictor.dispose();
  });
  return Object.assign(app, { batcher });
}

async function multipartInputs(request: FastifyRequest, bodyLimit: number): Promise<{ inputs: unknown[]; names: string[] }> {
  const inputs: unknown[] = [];
  const names: string[] = [];
  let total = 0;
  for await (const part of request.parts()) {
    if (part.type !== 'file') continue;
    const bytes = await part.toBuffer();
    total += bytes.byteLength;
    if (total > bodyLimit) throw Object.assign(new Error(`the files add up to more than ${bodyLimit} bytes`), { statusCode: 413 });
    inputs.push(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    names.push(part.filename || part.fieldname);
  }
  return { inputs, names };
}

/**
 * Serves a predictor on `host:port` until SIGINT/SIGTERM, then stops taking requests, finishes the
 * ones in flight and frees the model.
 */
export async function serve(predictor: AnyPredictor, options: ServerOptions & { port?: number; host?: string; onClose?: () => void } = {}): Promise<{ url: string; app: FastifyInstance; close(): Promise<void> }> {
  const app = await createServer(predictor, options);
  const url = await app.listen({ port: options.port ?? 8080, host: options.host ?? '127.0.0.1' });
  const close = async () => {
    process.off('SIGINT', close);
    process.off('SIGTERM', close);
    await app.close();
    options.onClose?.();
  };
  process.once('SIGINT', close);
  process.once('SIGTERM', close);
  return { url, app, close };
}
