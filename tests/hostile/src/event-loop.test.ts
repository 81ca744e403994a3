/**
 * The server's event loop under heavy and absurd requests: a long recording or a 150,000-event session is prepared off
 * it (`/health` keeps answering), and a 47-byte request that once froze a server for 20 s is a 400 at once. These time
 * `/health`, so `pnpm test` runs this file alone, after every other suite (the package's `test:alone`).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectResponsive, memoryOf, pingHealth, startServer, trainQuickBundles, wav16 } from './run';

const root = mkdtempSync(join(tmpdir(), 'kindling-hostile-event-loop-'));
const bundles = { sound: join(root, 'sound'), pointer: join(root, 'pointer') };

describe('the server\'s event loop under heavy and absurd requests', () => {
  beforeAll(async () => {
    await trainQuickBundles(root, bundles);
  }, 300_000);

  it('heavy sound and recording requests are prepared off the event loop: /health, pinged from another process, stays under 100 ms p99', async () => {
    for (const [bundle, body, type] of [
      [bundles.sound, new Uint8Array(wav16(Array.from({ length: 22_050 * 59 }, (_, index) => Math.sin(index / 9) * 0.2), 22_050)), 'audio/wav'],
      [
        bundles.pointer,
        JSON.stringify({ format: 'kindling-pointer@1', screen: { width: 1920, height: 1080 }, events: Array.from({ length: 150_000 }, (_, index) => ({ t: index * 16, type: 'move', x: 500 + Math.round(300 * Math.sin(index / 50)), y: 400 + Math.round(200 * Math.cos(index / 70)), button: 'none' })) }),
        'application/json',
      ],
    ] as const) {
      const server = await startServer([bundle, '--port', '0', '--threads', '1']);
      try {
        const idle = await pingHealth(server.url, 1000);
        const pinger = pingHealth(server.url, 3000);
        await new Promise((resolve) => setTimeout(resolve, 300));
        const statuses = await Promise.all(Array.from({ length: 8 }, () => fetch(`${server.url}/predict`, { method: 'POST', body, headers: { 'content-type': type } }).then((answer) => answer.status)));
        expect(statuses.filter((status) => status === 200).length, statuses.join(',')).toBeGreaterThan(0);
        expect(statuses.every((status) => status === 200 || status === 503), statuses.join(',')).toBe(true);
        const pings = await pinger;
        expect(pings.count).toBeGreaterThan(30);
        expectResponsive(pings, idle, `while ${type} requests were prepared`);
      } finally {
        server.child.kill('SIGKILL');
      }
    }
  });

  it('the server answers the 47-byte sound request with a 400 at once and stays small', async () => {
    const server = await startServer([bundles.sound, '--port', '0', '--threads', '1']);
    try {
      // one ordinary recording first, so that what is measured is the request and not a first request's one-time
      // costs (the preparation worker loading its modules, the model's first call)
      const warmUp = await fetch(`${server.url}/predict`, { method: 'POST', body: JSON.stringify({ samples: [0.5, 0.25], sampleRate: 8000 }), headers: { 'content-type': 'application/json' } });
      expect(warmUp.status).toBe(200);
      const start = await memoryOf(server.child.pid!);
      const body = JSON.stringify({ samples: [1], sampleRate: 1e9 });
      expect(body.length).toBeLessThan(48);
      const started = performance.now();
      const answer = await fetch(`${server.url}/predict`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
      expect(answer.status).toBe(400);
      expect((await answer.json()).error).toMatch(/^sampleRate: the sample rate 1000000000 is not a whole number of hertz/);
      expect(performance.now() - started).toBeLessThan(2000);
      // what the request added to the process's high-water mark (the 3.4 GB filter once did), and its peak against the
      // resident memory at the start (a server's start-up garbage moves that one by tens of MB from run to run)
      const after = await memoryOf(server.child.pid!);
      expect(after.peak - start.peak, `high-water mark ${start.peak.toFixed(0)} → ${after.peak.toFixed(0)} MB`).toBeLessThan(50);
      expect(after.peak - start.now, `peak ${after.peak.toFixed(0)} MB, resident at the start ${start.now.toFixed(0)} MB`).toBeLessThan(100);
      // read on the preparation workers, a request of no input or too many is refused as on the server's own thread
      const refusal = async (init: RequestInit) => {
        const response = await fetch(`${server.url}/predict`, { method: 'POST', ...init });
        return [response.status, (await response.json()).error];
      };
      expect(await refusal({ body: new FormData() })).toEqual([400, 'body: no inputs in the request']);
      expect(await refusal({ body: JSON.stringify(Array.from({ length: 65 }, () => ({ samples: [0.5], sampleRate: 8000 }))), headers: { 'content-type': 'application/json' } })).toEqual([400, 'body: 65 inputs in one request; the limit is 64']);
    } finally {
      server.child.kill('SIGKILL');
    }
  });
});
