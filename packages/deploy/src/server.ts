/**
 * `kindling serve`: a predictor behind an HTTP server (Fastify). JSON, binary and multipart inputs,
 * `/health`, `/info` and `/metrics`, body limits, header/request/idle timeouts, a bounded queue (503 with
 * Retry-After when full), optional bearer-token auth and CORS, a 4xx with a message for every bad request,
 * concurrent requests batched into one model call, and a close that waits for requests in flight up to a
 * deadline.
 */
import cors from '@fastify/cors';
import multipart from '@fastify/multipart';
import rateLimit from '@fastify/rate-limit';
import { ConfigError, DataError } from '@kindling/data';
import * as tf from '@tensorflow/tfjs';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyRequest } from 'fastify';
import { timingSafeEqual } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import { MicroBatcher } from './batcher';
import { checkedAnswers } from './predictor';
import { PreparePool } from './prepare-pool';
import { checkInputCount, jsonBodyInputs } from './request-inputs';
import type { Bundle } from './bundle-manifest';
import { InputError } from './errors';
import { isIP, type Socket } from 'node:net';
import { availableParallelism } from 'node:os';
import { taskDefinition } from './registry';
import type { SomePredictor } from './predictor';

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
  /**
   * Requests decoded and preprocessed at once (the model calls are batched apart from this); more wait in a queue of
   * `maxQueue` (default 64), and a request that finds the queue full is answered 503 with Retry-After.
   * Default 4 (a big picture's decoding holds ~40 MB; four keep a burst of 7000×7000 PNGs near 300 MB).
   */
  maxConcurrent?: number;
  maxQueue?: number;
  /**
   * Bytes of request bodies being received at once: a `/predict` request is admitted before its body is read, for
   * the bytes its `Content-Length` declares (the body limit when it declares none), and one that would pass this is
   * answered 503 with Retry-After at once, its body unread. Default: the body limit × (maxConcurrent + 2) (60 MiB),
   * so a flood of uploads holds that much, not the flood.
   */
  maxBodyBytesInFlight?: number;
  /**
   * Worker threads that read request bodies and prepare inputs off the event loop, for the kinds whose preparation
   * is JavaScript that grows with the input (sound: resampling and spectrograms; pointer: parsing, cutting and
   * drawing a session), so `/health` and new requests are answered while big inputs are prepared. 0 prepares on the
   * event loop. Default: one per core beyond the first, at least 1, at most `maxConcurrent`.
   */
  prepareThreads?: number;
  /**
   * Time limits in milliseconds: `headers` to receive a request's headers (default 10 s), `request` to
   * receive a whole request (default 30 s), `idle` for a keep-alive connection between requests (default 5 s).
   * A slow client is cut off after them; 0 turns one off.
   */
  timeouts?: { headers?: number; request?: number; idle?: number };
  /** When set, `/predict`, `/info` and `/metrics` need `Authorization: Bearer <token>` (`/health` stays open). */
  token?: string;
  /**
   * Web pages (origins such as `https://app.example`) allowed to call the server from a browser, or `'*'`.
   * Default none: a request that carries another site's `Origin` is refused (403), so a page elsewhere
   * cannot post pictures to a server on your machine.
   */
  corsOrigins?: readonly string[] | '*';
  /**
   * Host names the server answers to besides `localhost` and IP addresses (dev servers' rule against DNS rebinding:
   * a page on a name its attacker controls, re-pointed at 127.0.0.1, sends that name as `Host`), or `'*'` for any.
   * Checked only without a `token` (a rebound page cannot send the token). Default none: behind a load balancer or
   * under a name, list it (`--allowed-host api.example.com`) or set a token.
   */
  allowedHosts?: readonly string[] | '*';
  /**
   * Per-client limit on `/predict`: at most `max` requests per `windowMs` (default one minute) from one
   * address; more are answered 429 with Retry-After. Default none (the queue still bounds the total).
   */
  rateLimit?: { max: number; windowMs?: number };
}

/** The status of a server: requests worked on and waiting, answers by status, the model's tensors, memory. */
export interface ServerStatus {
  inFlight: number;
  queued: number;
  /** Bytes of `/predict` bodies admitted and not yet answered (see `maxBodyBytesInFlight`). */
  bodyBytesInFlight: number;
  requests: Record<string, number>;
  predictions: number;
  rejectedBusy: number;
  tensors: number;
  memory: { rss: number; heapUsed: number; external: number };
}

/** A counting gate: `maxConcurrent` holders at once, `maxQueue` waiting; beyond that `enter` says no at once. */
class Gate {
  inFlight = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    readonly maxConcurrent: number,
    readonly maxQueue: number,
  ) {
    if (!(Number.isInteger(maxConcurrent) && maxConcurrent >= 1)) throw new ConfigError(`maxConcurrent must be a whole number ≥ 1, not ${maxConcurrent}`);
    if (!(Number.isInteger(maxQueue) && maxQueue >= 0)) throw new ConfigError(`maxQueue must be a whole number ≥ 0, not ${maxQueue}`);
  }

  get queued(): number {
    return this.waiting.length;
  }

  /** Resolves when the caller may go on; undefined when the queue is full. */
  enter(): Promise<void> | undefined {
    if (this.inFlight < this.maxConcurrent) {
      this.inFlight++;
      return Promise.resolve();
    }
    if (this.waiting.length >= this.maxQueue) return undefined;
    return new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  leave(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.inFlight--;
  }
}

/** A JSON body kept as its bytes, to be parsed on a preparation worker. */
class RawJson {
  constructor(readonly bytes: Buffer) {}
}

/** An error that becomes an HTTP status with this message. */
function httpError(statusCode: number, message: string): Error & { statusCode: number } {
  return Object.assign(new Error(message), { statusCode });
}

function sameToken(given: string, expected: string): boolean {
  const [a, b] = [Buffer.from(given), Buffer.from(expected)];
  return a.length === b.length && timingSafeEqual(a, b);
}

const BINARY_TYPES = /^(image\/|audio\/|application\/octet-stream)/;

/** Typed arrays become plain arrays so answers serialize as JSON. */
function jsonSafe(value: unknown): unknown {
  if (ArrayBuffer.isView(value)) return Array.from(value as Uint8Array);
  if (Array.isArray(value)) return value.map(jsonSafe);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, entry]) => [key, jsonSafe(entry)]));
  return value;
}

/** The server `createServer` gives: Fastify, plus its batcher and its status (the figures behind /health and /metrics). */
export type PredictionServer = FastifyInstance & {
  /** @internal the micro-batcher of prediction requests (tests read its counts) */
  batcher?: MicroBatcher<unknown, unknown>;
  status(): ServerStatus;
};

/** The server, not yet listening (`app.inject` for tests, `app.listen` to serve; or use {@link serve}). */
export async function createServer(predictor: SomePredictor, options: ServerOptions = {}): Promise<PredictionServer> {
  const bodyLimit = options.bodyLimit ?? 10 * 1024 * 1024;
  const maxInputs = options.maxInputs ?? 64;
  const gate = new Gate(options.maxConcurrent ?? 4, options.maxQueue ?? 64);
  const bodyBudget = options.maxBodyBytesInFlight ?? bodyLimit * (gate.maxConcurrent + 2);
  if (!(Number.isFinite(bodyBudget) && bodyBudget > 0)) throw new ConfigError(`maxBodyBytesInFlight must be a positive number of bytes, not ${bodyBudget}`);
  /** Bytes of `/predict` bodies admitted and not yet answered, by request. */
  const admitted = new Map<string, number>();
  let bodyBytesInFlight = 0;
  const release = (id: string) => {
    const bytes = admitted.get(id);
    if (bytes === undefined) return;
    admitted.delete(id);
    bodyBytesInFlight -= bytes;
  };
  const timeouts = { headers: options.timeouts?.headers ?? 10_000, request: options.timeouts?.request ?? 30_000, idle: options.timeouts?.idle ?? 5_000 };
  for (const [name, value] of Object.entries(timeouts)) if (!(Number.isFinite(value) && value >= 0)) throw new ConfigError(`timeouts.${name} must be milliseconds ≥ 0, not ${value}`);
  if (options.token !== undefined && options.token.length < 8) throw new ConfigError('the token must have at least 8 characters');
  const app = Fastify({
    bodyLimit,
    logger: options.logger ?? false,
    forceCloseConnections: 'idle',
    // Node checks the header and request deadlines every connectionsCheckingInterval (30 s by default): check every second
    serverFactory: (handler) =>
      createHttpServer({ requestTimeout: timeouts.request, headersTimeout: timeouts.headers === 0 ? timeouts.request : Math.min(timeouts.headers, timeouts.request || Infinity), keepAliveTimeout: timeouts.idle, connectionsCheckingInterval: 1000 }, handler),
  });
  const model = predictor as unknown as { prepare(input: unknown): Promise<unknown>; run(prepared: unknown[]): Promise<unknown[]>; inputFromJson(value: unknown): unknown };
  const batcher = options.batching === false ? undefined : new MicroBatcher<unknown, unknown>((items) => model.run(items), { maxBatch: options.batching?.maxBatch ?? 32, maxDelayMs: options.batching?.maxDelayMs ?? 0 });
  /** Decoding and preprocessing (the memory-hungry part) go through the gate; the model call is batched. */
  const throughGate = async <T>(work: () => Promise<T>): Promise<T> => {
    const entered = gate.enter();
    if (entered === undefined) {
      counts.rejectedBusy++;
      throw httpError(503, `busy: ${gate.inFlight} requests in progress and ${gate.queued} waiting; try again shortly`);
    }
    await entered;
    try {
      return await work();
    } finally {
      gate.leave();
    }
  };
  const answer = async (prepared: unknown[]): Promise<unknown[]> => checkedAnswers(batcher ? await Promise.all(prepared.map((item) => batcher.submit(item))) : await model.run(prepared));
  /** Inputs (their number checked by the caller) prepared on this thread, then answered. */
  const predictMany = async (inputs: unknown[]): Promise<unknown[]> =>
    answer(await throughGate(() => Promise.all(inputs.map((input) => model.prepare(input)))));
  // bodies of the pooled kinds are read and prepared on worker threads
  const threads = options.prepareThreads ?? Math.min(gate.maxConcurrent, Math.max(1, availableParallelism() - 1));
  if (!(Number.isInteger(threads) && threads >= 0)) throw new ConfigError(`prepareThreads must be a whole number ≥ 0, not ${threads}`);
  const pool = PreparePool.start((predictor as { bundle: Bundle }).bundle, { size: threads, maxInputs });
  // the answer in another media type when a request asks for it (a mask as a PNG), as the kind's definition renders it
  const answerAs = taskDefinition(predictor.kind)?.answerAs;

  const counts = { requests: {} as Record<string, number>, predictions: 0, rejectedBusy: 0 };
  const status = (): ServerStatus => {
    const { rss, heapUsed, external } = process.memoryUsage();
    return { inFlight: gate.inFlight, queued: gate.queued, bodyBytesInFlight, requests: { ...counts.requests }, predictions: counts.predictions, rejectedBusy: counts.rejectedBusy, tensors: tf.memory().numTensors, memory: { rss, heapUsed, external } };
  };
  app.addHook('onResponse', async (_request, reply) => {
    const key = String(reply.statusCode);
    counts.requests[key] = (counts.requests[key] ?? 0) + 1;
  });

  const allowed = options.corsOrigins;
  if (allowed !== undefined) await app.register(cors, { origin: allowed === '*' ? true : [...allowed], methods: ['GET', 'POST'], allowedHeaders: ['content-type', 'authorization', 'accept'] });
  app.addHook('onRequest', async (request, reply) => {
    // a page on another site may not use this server unless its origin is allowed (multipart needs no preflight)
    const origin = request.headers.origin;
    if (origin !== undefined && !(allowed === '*' || allowed?.includes(origin) || isSameOrigin(origin, request.headers.host))) {
      throw httpError(403, `requests from the web page at ${origin} are not allowed: start the server with --cors ${origin} to allow them`);
    }
    // DNS rebinding: without a token, only the names this server knows (IP addresses and localhost are always known)
    const host = request.headers.host;
    if (options.token === undefined && host !== undefined && !hostAllowed(host, options.allowedHosts)) {
      throw httpError(403, `requests for the host name '${hostName(host)}' are not allowed: start the server with --allowed-host ${hostName(host)} (or a --token) to answer under that name`);
    }
    if (options.token !== undefined && request.method !== 'OPTIONS' && request.url !== '/health') {
      const header = request.headers.authorization ?? '';
      const given = /^Bearer\s+(.+)$/i.exec(header)?.[1] ?? '';
      if (!sameToken(given, options.token)) {
        reply.header('www-authenticate', 'Bearer');
        throw httpError(401, 'this server needs a token: send Authorization: Bearer <token>');
      }
    }
    // refuse a body that says it is too big before reading it
    const length = Number(request.headers['content-length']);
    if (Number.isFinite(length) && length > bodyLimit + 64 * 1024) {
      reply.header('connection', 'close');
      lingerOnClose(request.raw);
      throw httpError(413, `the request body has ${length} bytes; the limit is ${bodyLimit}`);
    }
    // admission before the body is read: the bytes of the bodies being received are bounded, not the flood
    if (request.method === 'POST' && request.url.split('?')[0] === '/predict') {
      const bytes = Number.isFinite(length) && length >= 0 ? length : bodyLimit;
      if (bodyBytesInFlight > 0 && bodyBytesInFlight + bytes > bodyBudget) {
        counts.rejectedBusy++;
        reply.header('connection', 'close');
        lingerOnClose(request.raw);
        throw httpError(503, `busy: ${(bodyBytesInFlight / 2 ** 20).toFixed(1)} MB of requests are being received and worked on; try again shortly`);
      }
      admitted.set(request.id, bytes);
      bodyBytesInFlight += bytes;
    }
  });
  // the admission ends with the answer, or with the client gone or timed out
  app.addHook('onResponse', async (request) => release(request.id));
  app.addHook('onRequestAbort', async (request) => release(request.id));
  app.addHook('onTimeout', async (request) => release(request.id));

  if (options.rateLimit !== undefined) {
    const { max, windowMs = 60_000 } = options.rateLimit;
    if (!(Number.isInteger(max) && max >= 1)) throw new ConfigError(`rateLimit.max must be a whole number ≥ 1, not ${max}`);
    // the message names the configured window; `ttl` is only what is left of the current one
    await app.register(rateLimit, {
      global: false,
      errorResponseBuilder: (_request: FastifyRequest, context: { max: number; ttl: number }) => httpError(429, `too many requests from this address: at most ${context.max} per ${Math.round(windowMs / 1000) || 1} s; try again in ${Math.ceil(context.ttl / 1000)} s`),
    });
  }
  const predictRoute = options.rateLimit === undefined ? {} : { config: { rateLimit: { max: options.rateLimit.max, timeWindow: options.rateLimit.windowMs ?? 60_000 } } };

  await app.register(multipart, { limits: { fileSize: bodyLimit, files: maxInputs, fields: 16, fieldSize: 1024 * 1024, parts: maxInputs + 16 } });
  app.removeContentTypeParser('text/plain');
  if (pool !== undefined) {
    // a JSON body is parsed on a worker (parsing 10 MB holds an event loop ~100 ms)
    app.removeContentTypeParser('application/json');
    app.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit }, (_request, body, done) => done(null, new RawJson(body as Buffer)));
  }
  app.addContentTypeParser(BINARY_TYPES, { parseAs: 'buffer', bodyLimit }, (_request, body, done) => done(null, body));
  app.addHook('onError', async (request, _reply, error) => {
    if ((error as FastifyError).code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      (error as { message: string }).message = `unsupported content type ${JSON.stringify(request.headers['content-type'] ?? '')}: send application/json, a file (image/*, audio/*, application/octet-stream) or multipart/form-data`;
    }
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const mistake = error instanceof InputError || error instanceof DataError || error instanceof ConfigError;
    const status = mistake ? 400 : error.statusCode !== undefined && ((error.statusCode >= 400 && error.statusCode < 500) || error.statusCode === 503) ? error.statusCode : 500;
    // @fastify/rate-limit set Retry-After itself for a 429
    if (status === 500) request.log.error(error);
    if (status === 503) reply.header('retry-after', '1');
    reply.status(status).send({ error: status === 500 ? 'internal error: the server could not answer this request' : error.message, statusCode: status });
  });
  app.setNotFoundHandler((request, reply) => {
    reply.status(404).send({ error: `no route ${request.method} ${request.url}: try GET /health, GET /info or POST /predict`, statusCode: 404 });
  });

  app.get('/health', async () => {
    const { inFlight, queued, tensors, memory } = status();
    return { status: 'ok', task: predictor.kind, inFlight, queued, tensors, rss: memory.rss };
  });
  app.get('/info', async () => ({ ...predictor.info(), server: { maxConcurrent: gate.maxConcurrent, maxQueue: gate.maxQueue, bodyLimit, maxInputs, timeouts, auth: options.token !== undefined, ...status() } }));
  app.get('/metrics', async (_request, reply) => {
    reply.type('text/plain; version=0.0.4');
    return prometheusText(status(), predictor.kind);
  });

  app.post('/predict', predictRoute, async (request, reply) => {
    const rendered = answerAs !== undefined && (request.headers.accept ?? '').includes(answerAs.mediaType) ? answerAs : undefined;
    let names: string[] | undefined;
    let batch = false;
    let predictions: unknown[];
    const bytesOf = (buffer: Buffer) => new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    if (request.isMultipart()) {
      const files = await multipartInputs(request, bodyLimit);
      names = files.names;
      batch = true;
      checkInputCount(files.inputs.length, maxInputs);
      predictions =
        pool === undefined
          ? await predictMany(files.inputs)
          : await answer(await throughGate(async () => (await Promise.all(files.inputs.map((input) => pool.prepare('bytes', input as Uint8Array)))).flatMap((part) => part.prepared)));
    } else if (Buffer.isBuffer(request.body) || request.body instanceof RawJson) {
      const json = request.body instanceof RawJson;
      const bytes = bytesOf(json ? (request.body as RawJson).bytes : (request.body as Buffer));
      if (pool !== undefined) {
        const read = await throughGate(() => pool.prepare(json ? 'json' : 'bytes', bytes));
        batch = read.batch;
        predictions = await answer(read.prepared);
      } else {
        predictions = await predictMany([bytes]);
      }
    } else {
      const read = jsonBodyInputs(request.body, maxInputs);
      batch = read.batch;
      predictions = await predictMany(read.values.map((value) => model.inputFromJson(value)));
    }
    counts.predictions += predictions.length;
    if (rendered !== undefined && predictions.length === 1) {
      reply.type(rendered.mediaType);
      return Buffer.from(await rendered.render(predictions[0], predictor));
    }
    if (!batch) return { prediction: jsonSafe(predictions[0]) };
    return { predictions: predictions.map((prediction, index) => (names ? { file: names[index], ...(jsonSafe(prediction) as object) } : jsonSafe(prediction))) };
  });

  app.addHook('onClose', async () => {
    await pool?.close();
    predictor.dispose();
  });
  return Object.assign(app as FastifyInstance, { batcher, status });
}

/** The name of a `Host` header, without its port (IPv6 literals keep their brackets). */
function hostName(host: string): string {
  const trimmed = host.trim().toLowerCase();
  return trimmed.startsWith('[') ? trimmed.slice(0, trimmed.indexOf(']') + 1) : trimmed.replace(/:\d+$/, '');
}

/** Whether a `Host` header names this server: an IP address, localhost (or a name under it), or an allowed name. */
function hostAllowed(host: string, allowed: readonly string[] | '*' | undefined): boolean {
  if (allowed === '*') return true;
  const name = hostName(host);
  if (name === 'localhost' || name.endsWith('.localhost') || isIP(name.replace(/^\[|\]$/g, '')) !== 0) return true;
  return allowed?.some((entry) => entry.toLowerCase() === name) ?? false;
}

function isSameOrigin(origin: string, host: string | undefined): boolean {
  try {
    return host !== undefined && new URL(origin).host === host;
  } catch {
    return false;
  }
}

/** The status in Prometheus' text format. */
function prometheusText(status: ServerStatus, task: string): string {
  const lines: string[] = [];
  const metric = (name: string, type: 'gauge' | 'counter', help: string, samples: Array<[string, number]>) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...samples.map(([labels, value]) => `${name}${labels} ${value}`));
  };
  metric('kindling_requests_total', 'counter', 'HTTP answers by status code.', Object.entries(status.requests).map(([code, count]) => [`{code="${code}"}`, count]));
  metric('kindling_predictions_total', 'counter', 'Inputs answered.', [[`{task="${task}"}`, status.predictions]]);
  metric('kindling_rejected_busy_total', 'counter', 'Requests refused with 503 because the queue was full.', [['', status.rejectedBusy]]);
  metric('kindling_requests_in_flight', 'gauge', 'Predictions being worked on.', [['', status.inFlight]]);
  metric('kindling_requests_queued', 'gauge', 'Predictions waiting for a slot.', [['', status.queued]]);
  metric('kindling_request_body_bytes_in_flight', 'gauge', 'Bytes of prediction request bodies admitted and not yet answered.', [['', status.bodyBytesInFlight]]);
  metric('kindling_tensors', 'gauge', 'Tensors held by TensorFlow.js.', [['', status.tensors]]);
  metric('process_resident_memory_bytes', 'gauge', 'Resident memory.', [['', status.memory.rss]]);
  metric('nodejs_heap_used_bytes', 'gauge', 'V8 heap in use.', [['', status.memory.heapUsed]]);
  return `${lines.join('\n')}\n`;
}

async function multipartInputs(request: FastifyRequest, bodyLimit: number): Promise<{ inputs: unknown[]; names: string[] }> {
  const inputs: unknown[] = [];
  const names: string[] = [];
  let total = 0;
  for await (const part of request.parts()) {
    if (part.type !== 'file') continue;
    // counted as the bytes arrive, so a body without a (truthful) length is cut off at the limit
    const chunks: Buffer[] = [];
    for await (const chunk of part.file as AsyncIterable<Buffer>) {
      total += chunk.byteLength;
      if (total > bodyLimit) throw httpError(413, `the files add up to more than ${bodyLimit} bytes`);
      chunks.push(chunk);
    }
    if (part.file.truncated) throw httpError(413, `the files add up to more than ${bodyLimit} bytes`);
    const bytes = Buffer.concat(chunks);
    inputs.push(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    names.push(part.filename || part.fieldname);
  }
  return { inputs, names };
}

/**
 * Serves a predictor on `host:port` until SIGINT/SIGTERM, then stops taking requests, finishes the
 * ones in flight (for at most `shutdownTimeout` ms, default 10 s; then their connections are closed)
 * and frees the model.
 */
export async function serve(
  predictor: SomePredictor,
  options: ServerOptions & { port?: number; host?: string; shutdownTimeout?: number; onClose?: (how: { forced: boolean }) => void } = {},
): Promise<{ url: string; app: FastifyInstance; close(): Promise<void> }> {
  const app = await createServer(predictor, options);
  const url = await app.listen({ port: options.port ?? 8080, host: options.host ?? '127.0.0.1' });
  const deadline = options.shutdownTimeout ?? 10_000;
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      process.off('SIGINT', close);
      process.off('SIGTERM', close);
      let forced = false;
      const timer = setTimeout(() => {
        // requests still unfinished (a slow upload, a stuck client) do not hold the shutdown any longer
        forced = true;
        app.server.closeAllConnections();
      }, deadline);
      timer.unref();
      try {
        await app.close();
      } finally {
        clearTimeout(timer);
      }
      options.onClose?.({ forced });
    })());
  process.once('SIGINT', close);
  process.once('SIGTERM', close);
  return { url, app, close };
}

/** How long a connection refused before its body was read keeps reading (and dropping) that body after the answer. */
const LINGER_MS = 2000;

/**
 * A refusal sent before the body is read must reach the client. Node closes a `Connection: close` socket as soon as
 * the answer is written; with the client's body still arriving, the kernel then resets the connection, and a client
 * still sending usually loses the answer (an empty reply instead of the 503). As nginx's lingering close and Go's
 * server do: end our side, keep reading and dropping what arrives (no memory is held), and close for good when the
 * client closes or after `LINGER_MS`.
 */
function lingerOnClose(request: IncomingMessage): void {
  const socket = request.socket as Socket & { destroySoon?: () => void };
  socket.destroySoon = () => {
    socket.end();
    request.resume();
    socket.resume();
    setTimeout(() => socket.destroy(), LINGER_MS).unref();
  };
}
