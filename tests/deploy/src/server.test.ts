import { describeEachBackend } from '@kindling/backend/testing';
import { encodePng } from '@kindling/image/node';
import * as tf from '@tensorflow/tfjs';
import { connect } from 'node:net';
import { expect, it } from 'vitest';
import type { RawImage } from '@kindling/image/predict';
import { loadPredictor } from '@kindling/deploy/node';
import { createServer, serve } from '@kindling/deploy/server';
import type { TabularPredictor } from '@kindling/tabular';
import { exampleBundle, exampleInputs } from './testing';
import type { TableRow } from '@kindling/tabular';

async function pngs(count: number): Promise<Buffer[]> {
  return Promise.all((exampleInputs('image', count) as RawImage[]).map(async (image) => Buffer.from(await encodePng({ data: image.data as Uint8Array, shape: [image.height, image.width, 3] }))));
}

function multipartBody(files: Array<{ name: string; bytes: Buffer }>): { payload: Buffer; headers: Record<string, string> } {
  const boundary = '----kindling-test-boundary';
  const parts = files.flatMap(({ name, bytes }) => [Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: image/png\r\n\r\n`), bytes, Buffer.from('\r\n')]);
  return { payload: Buffer.concat([...parts, Buffer.from(`--${boundary}--\r\n`)]), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

describeEachBackend(
  'the prediction server',
  () => {
    it('answers health, model info, and image predictions from binary, base64 JSON and multipart bodies', async () => {
      const predictor = await loadPredictor(await exampleBundle('image'));
      const app = await createServer(predictor);
      const [first, second] = await pngs(2);
      const expected = await predictor.predictBatch([first!, second!] as never[]);
      expect((await app.inject({ method: 'GET', url: '/health' })).json()).toMatchObject({ status: 'ok', task: 'image', inFlight: 0, queued: 0, tensors: expect.any(Number), rss: expect.any(Number) });
      const info = (await app.inject({ method: 'GET', url: '/info' })).json();
      expect(info).toMatchObject({ task: 'image', labels: ['cat', 'dog', 'fox'], formatVersion: 1 });
      expect(info.input).toMatch(/resized to 16×16/);
      const binary = await app.inject({ method: 'POST', url: '/predict', payload: first, headers: { 'content-type': 'image/png' } });
      expect(binary.statusCode).toBe(200);
      expect(binary.json().prediction).toEqual(expected[0]);
      const json = await app.inject({ method: 'POST', url: '/predict', payload: { image: second!.toString('base64') } });
      expect(json.json().prediction).toEqual(expected[1]);
      const form = multipartBody([{ name: 'a.png', bytes: first! }, { name: 'b.png', bytes: second! }]);
      const many = await app.inject({ method: 'POST', url: '/predict', ...form });
      expect(many.statusCode).toBe(200);
      expect(many.json().predictions).toEqual([{ file: 'a.png', ...expected[0] }, { file: 'b.png', ...expected[1] }]);
      await app.close();
    });

    it('rejects oversized, malformed, empty, wrong-type and undecodable requests with a 4xx and a message', async () => {
      const app = await createServer(await loadPredictor(await exampleBundle('image')), { bodyLimit: 2000 });
      const big = await app.inject({ method: 'POST', url: '/predict', payload: Buffer.alloc(5000), headers: { 'content-type': 'image/png' } });
      expect(big.statusCode).toBe(413);
      expect(big.json().error).toMatch(/body/i);
      const bigForm = await app.inject({ method: 'POST', url: '/predict', ...multipartBody([{ name: 'a.png', bytes: Buffer.alloc(1500) }, { name: 'b.png', bytes: Buffer.alloc(1500) }]) });
      expect(bigForm.statusCode).toBe(413);
      const broken = await app.inject({ method: 'POST', url: '/predict', payload: '{"image": ', headers: { 'content-type': 'application/json' } });
      expect(broken.statusCode).toBe(400);
      const garbage = await app.inject({ method: 'POST', url: '/predict', payload: Buffer.from('not a picture'), headers: { 'content-type': 'image/png' } });
      expect(garbage.statusCode).toBe(400);
      expect(garbage.json().error).toMatch(/cannot decode as an image/);
      // a request holding no input, or more than maxInputs, in JSON and in multipart alike
      const counted = await createServer(await loadPredictor(await exampleBundle('image')), { maxInputs: 2 });
      const none = await counted.inject({ method: 'POST', url: '/predict', payload: [] });
      expect([none.statusCode, none.json().error]).toEqual([400, 'body: no inputs in the request']);
      const three = await counted.inject({ method: 'POST', url: '/predict', payload: { inputs: [1, 2, 3] } });
      expect([three.statusCode, three.json().error]).toEqual([400, 'body: 3 inputs in one request; the limit is 2']);
      const noFiles = await counted.inject({ method: 'POST', url: '/predict', ...multipartBody([]) });
      expect([noFiles.statusCode, noFiles.json().error]).toEqual([400, 'body: no inputs in the request']);
      await counted.close();
      const wrongShape = await app.inject({ method: 'POST', url: '/predict', payload: { picture: 1 } });
      expect(wrongShape.statusCode).toBe(400);
      expect(wrongShape.json().error).toMatch(/expected \{ "image"/);
      const text = await app.inject({ method: 'POST', url: '/predict', payload: 'hello', headers: { 'content-type': 'text/plain' } });
      expect(text.statusCode).toBe(415);
      expect(text.json().error).toMatch(/unsupported content type "text\/plain".*application\/json.*image\/\*.*multipart/);
      const empty = await app.inject({ method: 'POST', url: '/predict', payload: [] });
      expect(empty.statusCode).toBe(400);
      expect((await app.inject({ method: 'GET', url: '/nowhere' })).statusCode).toBe(404);
      await app.close();
    });

    it('answers table rows and recommendation queries as JSON, and names the bad field', async () => {
      const tabular = await createServer(await loadPredictor(await exampleBundle('tabular')));
      const rows = exampleInputs('tabular', 2);
      const one = await tabular.inject({ method: 'POST', url: '/predict', payload: rows[0] as object });
      expect(one.json().prediction).toMatchObject({ kind: 'classification', label: expect.any(String) });
      expect(one.json().prediction.top[0]).toEqual({ label: one.json().prediction.label, score: expect.any(Number) });
      const both = await tabular.inject({ method: 'POST', url: '/predict', payload: rows as object[] });
      expect(both.json().predictions).toHaveLength(2);
      const bad = await tabular.inject({ method: 'POST', url: '/predict', payload: { ...(rows[0] as object), age: 'old' } });
      expect(bad.statusCode).toBe(400);
      expect(bad.json().error).toMatch(/age/);
      await tabular.close();

      const collab = await createServer(await loadPredictor(await exampleBundle('collab')));
      const score = await collab.inject({ method: 'POST', url: '/predict', payload: { user: 'u1', item: 'movie 3' } });
      expect(score.json().prediction).toMatchObject({ kind: 'score', user: 'u1', item: 'movie 3', score: expect.any(Number) });
      const cold = await collab.inject({ method: 'POST', url: '/predict', payload: { liked: ['movie 1'], count: 4 } });
      expect(cold.json().prediction.items).toHaveLength(4);
      const stranger = await collab.inject({ method: 'POST', url: '/predict', payload: { user: 'nobody', item: 'movie 3' } });
      expect(stranger.statusCode).toBe(400);
      expect(stranger.json().error).toMatch(/user: unknown user 'nobody'/);
      await collab.close();
    });

    it('returns a segmentation mask as JSON, or as a coloured PNG when asked', async () => {
      const app = await createServer(await loadPredictor(await exampleBundle('segmentation')));
      const [picture] = await pngs(1);
      const json = await app.inject({ method: 'POST', url: '/predict', payload: picture, headers: { 'content-type': 'image/png' } });
      const prediction = json.json().prediction;
      expect(prediction.mask).toHaveLength(16 * 16);
      expect(prediction.mask.every((value: number) => value === 0 || value === 1)).toBe(true);
      const png = await app.inject({ method: 'POST', url: '/predict', payload: picture, headers: { 'content-type': 'image/png', accept: 'image/png' } });
      expect(png.headers['content-type']).toBe('image/png');
      expect(png.rawPayload.subarray(1, 4).toString()).toBe('PNG');
      await app.close();
    });

    it('batches concurrent requests into fewer model calls, and its tensors do not grow over 1,000 requests', async () => {
      const predictor = await loadPredictor(await exampleBundle('image'));
      const app = await createServer(predictor, { batching: { maxBatch: 16, maxDelayMs: 5 }, maxConcurrent: 16 });
      const pictures = await pngs(4);
      const expected = await predictor.predictBatch(pictures as never[]);
      const request = (index: number) => app.inject({ method: 'POST', url: '/predict', payload: pictures[index % 4], headers: { 'content-type': 'image/png' } });
      await Promise.all(Array.from({ length: 20 }, (_, index) => request(index)));
      const before = tf.memory().numTensors;
      for (let round = 0; round < 20; round++) {
        const answers = await Promise.all(Array.from({ length: 50 }, (_, index) => request(index)));
        answers.forEach((answer, index) => expect(answer.json().prediction).toEqual(expected[index % 4]));
      }
      expect(tf.memory().numTensors).toBe(before);
      const sizes = app.batcher!.batchSizes;
      expect(sizes.reduce((a, b) => a + b)).toBe(1020);
      expect(sizes.length).toBeLessThan(1020 / 4);
      await app.close();
    });

    it('listens on a port, and a close lets the request in flight finish', async () => {
      const predictor = (await loadPredictor(await exampleBundle('tabular'))) as TabularPredictor;
      const server = await serve(predictor, { port: 0 });
      const row = exampleInputs('tabular', 1)[0];
      // hold the request inside the server while it is asked to close
      let arrived!: () => void;
      const inside = new Promise<void>((resolve) => (arrived = resolve));
      const prepare = predictor.prepare.bind(predictor);
      predictor.prepare = async (input: TableRow) => {
        arrived();
        await new Promise((resolve) => setTimeout(resolve, 100));
        return prepare(input);
      };
      const pending = fetch(`${server.url}/predict`, { method: 'POST', body: JSON.stringify(row), headers: { 'content-type': 'application/json' } });
      await inside;
      const closing = server.close();
      const answer = await pending;
      expect(answer.status).toBe(200);
      expect((await answer.json()).prediction.kind).toBe('classification');
      await closing;
      await expect(fetch(`${server.url}/health`)).rejects.toThrow();
    });

    it('refuses a body that says it is too big before reading it, and counts multipart bytes as they arrive', async () => {
      const server = await serve(await loadPredictor(await exampleBundle('image')), { port: 0, bodyLimit: 100_000 });
      const started = performance.now();
      // claims 100 MB but sends almost nothing: answered at once, without waiting for the body
      const answer = await rawRequest(server.url, `POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: ${100 * 1024 * 1024}\r\n\r\n--b\r\n`);
      expect(answer).toMatch(/^HTTP\/1.1 413/);
      expect(answer).toMatch(/the limit is 100000/);
      expect(performance.now() - started).toBeLessThan(2000);
      // chunked (no length): cut off when the files pass the limit
      const boundary = 'b';
      const chunks = (async function* () {
        yield new TextEncoder().encode(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n`);
        for (let i = 0; i < 40; i++) yield new Uint8Array(10_000);
        yield new TextEncoder().encode(`\r\n--${boundary}--\r\n`);
      })();
      const chunked = await fetch(`${server.url}/predict`, { method: 'POST', body: new ReadableStream({ async pull(controller) { const { value, done } = await chunks.next(); if (done) controller.close(); else controller.enqueue(value); } }), duplex: 'half', headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } } as RequestInit);
      expect(chunked.status).toBe(413);
      await server.close();
    });

    it('answers 503 with Retry-After when the queue is full, and /metrics and /health count it', async () => {
      const predictor = (await loadPredictor(await exampleBundle('tabular'))) as TabularPredictor;
      const app = await createServer(predictor, { maxConcurrent: 1, maxQueue: 1 });
      const prepare = predictor.prepare.bind(predictor);
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      predictor.prepare = async (input: TableRow) => {
        await held;
        return prepare(input);
      };
      const row = exampleInputs('tabular', 1)[0] as object;
      const first = app.inject({ method: 'POST', url: '/predict', payload: row });
      const second = app.inject({ method: 'POST', url: '/predict', payload: row });
      await new Promise((resolve) => setTimeout(resolve, 50));
      const health = (await app.inject({ method: 'GET', url: '/health' })).json();
      expect(health).toMatchObject({ inFlight: 1, queued: 1 });
      const third = await app.inject({ method: 'POST', url: '/predict', payload: row });
      expect(third.statusCode).toBe(503);
      expect(third.headers['retry-after']).toBe('1');
      expect(third.json().error).toMatch(/busy: 1 requests in progress and 1 waiting/);
      release();
      expect((await first).statusCode).toBe(200);
      expect((await second).statusCode).toBe(200);
      const metrics = await app.inject({ method: 'GET', url: '/metrics' });
      expect(metrics.headers['content-type']).toMatch(/^text\/plain/);
      expect(metrics.body).toMatch(/kindling_requests_total\{code="503"\} 1/);
      expect(metrics.body).toMatch(/kindling_predictions_total\{task="tabular"\} 2/);
      expect(metrics.body).toMatch(/kindling_rejected_busy_total 1/);
      expect(metrics.body).toMatch(/kindling_requests_in_flight 0/);
      await app.close();
    });

    it('limits requests per client address when asked: 429 with Retry-After past the limit', async () => {
      const predictor = await loadPredictor(await exampleBundle('tabular'));
      const row = exampleInputs('tabular', 1)[0] as object;
      const app = await createServer(predictor, { rateLimit: { max: 3, windowMs: 60_000 } });
      const answers = [];
      for (let k = 0; k < 5; k++) {
        answers.push(await app.inject({ method: 'POST', url: '/predict', payload: row, remoteAddress: '10.0.0.1' }));
        if (k === 3) await new Promise((resolve) => setTimeout(resolve, 1100)); // the message names the window, not what is left of it
      }
      expect(answers.map((answer) => answer.statusCode)).toEqual([200, 200, 200, 429, 429]);
      expect(Number(answers[3]!.headers['retry-after'])).toBeGreaterThan(0);
      expect(answers[3]!.json().error).toMatch(/too many requests from this address: at most 3 per 60 s/);
      expect(answers[4]!.json().error).toMatch(/at most 3 per 60 s; try again in 5\d s/);
      // another address has its own budget; /health is never limited
      expect((await app.inject({ method: 'POST', url: '/predict', payload: row, remoteAddress: '10.0.0.2' })).statusCode).toBe(200);
      expect((await app.inject({ method: 'GET', url: '/health', remoteAddress: '10.0.0.1' })).statusCode).toBe(200);
      await app.close();
    });

    it('needs the token when one is set, and refuses pages from other origins unless allowed', async () => {
      const predictor = await loadPredictor(await exampleBundle('tabular'));
      const row = exampleInputs('tabular', 1)[0] as object;
      const app = await createServer(predictor, { token: 'a-long-secret', corsOrigins: ['https://app.example'] });
      expect((await app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
      const anonymous = await app.inject({ method: 'POST', url: '/predict', payload: row });
      expect(anonymous.statusCode).toBe(401);
      expect(anonymous.headers['www-authenticate']).toBe('Bearer');
      expect((await app.inject({ method: 'GET', url: '/info', headers: { authorization: 'Bearer wrong-secret!' } })).statusCode).toBe(401);
      const authorized = await app.inject({ method: 'POST', url: '/predict', payload: row, headers: { authorization: 'Bearer a-long-secret' } });
      expect(authorized.statusCode).toBe(200);
      // a page elsewhere posting a form (no preflight in a browser) is refused; the allowed page gets CORS headers
      const elsewhere = await app.inject({ method: 'POST', url: '/predict', payload: row, headers: { authorization: 'Bearer a-long-secret', origin: 'https://evil.example' } });
      expect(elsewhere.statusCode).toBe(403);
      expect(elsewhere.json().error).toMatch(/https:\/\/evil.example are not allowed.*--cors/);
      const allowed = await app.inject({ method: 'POST', url: '/predict', payload: row, headers: { authorization: 'Bearer a-long-secret', origin: 'https://app.example' } });
      expect(allowed.statusCode).toBe(200);
      expect(allowed.headers['access-control-allow-origin']).toBe('https://app.example');
      const preflight = await app.inject({ method: 'OPTIONS', url: '/predict', headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' } });
      expect(preflight.statusCode).toBe(204);
      expect(preflight.headers['access-control-allow-headers']).toMatch(/authorization/);
      await app.close();
      await expect(createServer(predictor, { token: 'short' })).rejects.toThrow(/at least 8 characters/);
    });

    it('without a token answers only its own names: a rebound host name gets 403 naming the flag, IP addresses and localhost pass', async () => {
      const predictor = await loadPredictor(await exampleBundle('tabular'));
      const row = exampleInputs('tabular', 1)[0] as object;
      const app = await createServer(predictor, {});
      const rebound = await app.inject({ method: 'POST', url: '/predict', payload: row, headers: { host: 'attacker.example:8080', origin: 'http://attacker.example:8080' } });
      expect(rebound.statusCode).toBe(403);
      expect(rebound.json().error).toBe("requests for the host name 'attacker.example' are not allowed: start the server with --allowed-host attacker.example (or a --token) to answer under that name");
      for (const host of ['127.0.0.1:8080', 'localhost', '[::1]:8080', '10.1.2.3', 'app.localhost']) expect((await app.inject({ method: 'GET', url: '/health', headers: { host } })).statusCode, host).toBe(200);
      await app.close();
      // closing a server frees its predictor's model: each server gets its own
      const named = await createServer(await loadPredictor(await exampleBundle('tabular')), { allowedHosts: ['api.example.com'] });
      expect((await named.inject({ method: 'POST', url: '/predict', payload: row, headers: { host: 'API.example.com' } })).statusCode).toBe(200);
      expect((await named.inject({ method: 'GET', url: '/health', headers: { host: 'other.example.com' } })).statusCode).toBe(403);
      await named.close();
      // with a token a rebound page cannot authenticate: any name is answered
      const guarded = await createServer(await loadPredictor(await exampleBundle('tabular')), { token: 'a-long-secret' });
      expect((await guarded.inject({ method: 'POST', url: '/predict', payload: row, headers: { host: 'api.example.com', authorization: 'Bearer a-long-secret' } })).statusCode).toBe(200);
      await guarded.close();
    });

    it('cuts off clients that send their headers or body too slowly, and a close ends an unfinished upload at its deadline', async () => {
      const predictor = await loadPredictor(await exampleBundle('image'));
      const server = await serve(predictor, { port: 0, timeouts: { headers: 500, request: 1000 }, shutdownTimeout: 300 });
      const started = performance.now();
      const slowHeaders = rawRequest(server.url, 'GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n', { keepOpen: true });
      const slowBody = rawRequest(server.url, 'POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/png\r\nContent-Length: 5000\r\n\r\nabc', { keepOpen: true });
      const [headersAnswer, bodyAnswer] = await Promise.all([slowHeaders, slowBody]);
      expect(headersAnswer).toMatch(/^HTTP\/1.1 408|^$/);
      expect(bodyAnswer).toMatch(/^HTTP\/1.1 408|^$/);
      expect(performance.now() - started).toBeLessThan(4000);
      // an upload still arriving when the server is told to stop: cut off after shutdownTimeout
      const upload = rawRequest(server.url, 'POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/png\r\nContent-Length: 5000\r\n\r\nabc', { keepOpen: true });
      await new Promise((resolve) => setTimeout(resolve, 100));
      const closing = performance.now();
      await server.close();
      await upload;
      expect(performance.now() - closing).toBeLessThan(1500);
    });
  },
  ['cpu'],
);

/** Writes raw bytes to the server and resolves with everything it answers until it closes the connection (or 8 s pass). */
function rawRequest(url: string, text: string, options: { keepOpen?: boolean } = {}): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(text));
    let answer = '';
    const timer = setTimeout(() => socket.destroy(), 8000);
    socket.on('data', (chunk) => {
      answer += chunk.toString();
      if (!options.keepOpen && /\r\n\r\n/.test(answer)) setTimeout(() => socket.end(), 50);
    });
    socket.on('error', (error) => (answer === '' && (error as NodeJS.ErrnoException).code !== 'ECONNRESET' ? reject(error) : undefined));
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(answer);
    });
  });
}
