import { describeEachBackend } from '@kindling/backend/testing';
import { encodePng } from '@kindling/image/node';
import type { TableRow } from '@kindling/data';
import * as tf from '@tensorflow/tfjs';
import { expect, it } from 'vitest';
import type { RawImage } from './image-predictor';
import { loadPredictor } from './node';
import { createServer, serve } from './server';
import type { TabularPredictor } from './tabular-predictor';
import { exampleBundle, exampleInputs } from './testing';

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
      expect((await app.inject({ method: 'GET', url: '/health' })).json()).toEqual({ status: 'ok', task: 'image' });
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
      const wrongShape = await app.inject({ method: 'POST', url: '/predict', payload: { picture: 1 } });
      expect(wrongShape.statusCode).toBe(400);
      expect(wrongShape.json().error).toMatch(/expected \{ "image"/);
      const text = await app.inject({ method: 'POST', url: '/predict', payload: 'hello', headers: { 'content-type': 'text/plain' } });
      expect(text.statusCode).toBe(415);
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
      const app = await createServer(predictor, { batching: { maxBatch: 16, maxDelayMs: 5 } });
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
  },
  ['cpu'],
);
