import { generateShapesDataset } from '@kindling/image/node';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorLines, expectResponsive, kindling, memoryOf, pingHealth, startServer } from './run';

const root = mkdtempSync(join(tmpdir(), 'kindling-hostile-server-'));
const bundle = join(root, 'bundle');

/** Opens a connection and sends `text`, then nothing more; resolves with the milliseconds until the server closes it. */
function stall(url: string, text: string): Promise<number> {
  const { hostname, port } = new URL(url);
  const started = performance.now();
  return new Promise((resolve) => {
    const socket: Socket = connect(Number(port), hostname, () => socket.write(text));
    socket.on('error', () => undefined);
    socket.resume(); // read (and drop) the answer, so the end of the connection is seen
    socket.on('close', () => resolve(performance.now() - started));
    setTimeout(() => socket.destroy(), 20_000);
  });
}

/** Sends a raw HTTP request (`head`, then `body`) and resolves with everything the server answered. */
function rawRequest(url: string, head: string, body: Uint8Array = new Uint8Array(0)): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    let answer = '';
    const socket: Socket = connect(Number(port), hostname, () => {
      socket.write(head);
      socket.write(body);
    });
    socket.on('data', (chunk) => (answer += chunk.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => resolve(answer));
    setTimeout(() => socket.destroy(), 20_000);
  });
}

describe('kindling serve under hostile clients', () => {
  beforeAll(async () => {
    const shapes = await generateShapesDataset(join(root, 'shapes'), { perClass: 4, size: 24, seed: 3 });
    // the default backend (torch where built, else wasm): the pure-JavaScript cpu one took ~25 s of the alone part of pnpm test
    const trained = await kindling(['train', 'image', shapes, '--epochs', '1', '--size', '32', '--batch-size', '8', '--out', bundle], { cwd: root });
    // one epoch on 16 pictures need not beat the most common class (exit 3, bundle kept): the server only needs a bundle
    expect([0, 3], trained.stderr).toContain(trained.code);
    expect(existsSync(join(bundle, 'kindling.json'))).toBe(true);
  }, 300_000);

  it('a 7000×7000 PNG is answered with under 100 MB above the resident memory at start while /health keeps answering (90% within 250 ms, all within 1 s)', async () => {
    const png = await sharp({ create: { width: 7000, height: 7000, channels: 3, background: { r: 40, g: 90, b: 200 } } }).png({ compressionLevel: 9 }).toBuffer();
    expect(png.byteLength).toBeLessThan(1_000_000);
    const server = await startServer([bundle, '--port', '0']);
    try {
      const start = await memoryOf(server.child.pid!);
      const latencies: number[] = [];
      let done = false;
      const pinger = (async () => {
        while (!done) {
          const started = performance.now();
          expect((await fetch(`${server.url}/health`)).status).toBe(200);
          latencies.push(performance.now() - started);
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      })();
      for (let round = 0; round < 3; round++) {
        const answer = await fetch(`${server.url}/predict`, { method: 'POST', body: new Uint8Array(png), headers: { 'content-type': 'image/png' } });
        expect(answer.status).toBe(200);
        expect((await answer.json()).prediction.label).toMatch(/circle|square|triangle|star/);
      }
      done = true;
      await pinger;
      const after = await memoryOf(server.child.pid!);
      // relative to the start: the backend's own libraries (libtorch on torch) are resident before any request
      expect(after.peak - start.now, `started at ${start.now.toFixed(0)} MB, peak ${after.peak.toFixed(0)} MB`).toBeLessThan(100);
      // answered while the pictures are decoded: a decode on the event loop would stall every ping for a second or
      // more; off it, pings wait only for the CPU, which libvips's decoding threads and the other test processes
      // share on a 2-core CI machine (the 90th percentile reached 101 ms there once, so the bound leaves room)
      latencies.sort((a, b) => a - b);
      expect(latencies[Math.floor(latencies.length * 0.9)]).toBeLessThan(250);
      expect(latencies.at(-1)).toBeLessThan(1000);
      const health = await (await fetch(`${server.url}/health`)).json();
      expect(health).toMatchObject({ status: 'ok', inFlight: 0, queued: 0 });
    } finally {
      server.child.kill('SIGKILL');
    }
  });

  it('slow clients are cut off at the header and request deadlines; SIGTERM during a slow upload exits by its deadline', async () => {
    const server = await startServer([bundle, '--port', '0', '--headers-timeout', '1000', '--request-timeout', '2000', '--shutdown-timeout', '1000']);
    const exited = new Promise<number | null>((resolve) => server.child.on('exit', resolve));
    // 200 clients that never finish their headers, 200 that never finish their bodies
    const slowHeaders = Array.from({ length: 200 }, () => stall(server.url, 'GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n'));
    const slowBodies = Array.from({ length: 200 }, () => stall(server.url, 'POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/png\r\nContent-Length: 100000\r\n\r\nabc'));
    const closedAfter = await Promise.all([...slowHeaders, ...slowBodies]);
    expect(Math.max(...closedAfter.slice(0, 200))).toBeLessThan(1000 + 2500);
    expect(Math.max(...closedAfter.slice(200))).toBeLessThan(2000 + 2500);
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    // an upload in progress does not hold a shutdown past --shutdown-timeout
    void stall(server.url, 'POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/png\r\nContent-Length: 100000\r\n\r\nabc');
    await new Promise((resolve) => setTimeout(resolve, 200));
    const signalled = performance.now();
    server.child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(performance.now() - signalled).toBeLessThan(1000 + 2000);
    expect(server.output()).toMatch(/stopped: requests still unfinished after 1000 ms were cut off|stopped: finished the requests in flight/);
  });

  it('pictures whose cost hides in their header are refused from it: an AVIF decoded whole, a strip of extreme sides; a modest GIF is answered', async () => {
    const make = (width: number, height: number) => sharp({ create: { width, height, channels: 3, background: { r: 40, g: 90, b: 200 } } });
    const files = {
      avif: [join(root, 'big.avif'), await make(7000, 7000).avif().toBuffer()],
      strip: [join(root, 'strip.png'), await make(1_000_000, 49).png({ compressionLevel: 9 }).toBuffer()],
      gif: [join(root, 'modest.gif'), await make(2400, 1800).gif().toBuffer()],
    } as const;
    for (const [file, bytes] of Object.values(files)) writeFileSync(file, bytes);
    expect(files.avif[1].length).toBeLessThan(4096);
    const predict = async (file: string) => {
      const started = performance.now();
      const outcome = await kindling(['predict', bundle, file, '--backend', 'cpu']);
      return { ...outcome, seconds: (performance.now() - started) / 1000 };
    };
    const avif = await predict(files.avif[0]);
    expect(avif.code).toBe(1);
    expect(errorLines(avif)).toEqual([expect.stringMatching(/^kindling: image: a HEIF picture of 7000×7000 pixels \(49\.0 megapixels\) is decoded whole before it can be shrunk; the limit for such formats is 8 megapixels/)]);
    const strip = await predict(files.strip[0]);
    expect(strip.code).toBe(1);
    expect(errorLines(strip)).toEqual([expect.stringMatching(/^kindling: image: the picture is 1000000×49 pixels: its sides are more than 64 times apart/)]);
    const gif = await predict(files.gif[0]);
    expect(gif.code, gif.stderr).toBe(0);
    expect(gif.stdout).toMatch(/(circle|square|triangle|star) \(\d+\.\d%\)/);
    for (const outcome of [avif, strip, gif]) expect(outcome.seconds).toBeLessThan(30);
    // the same to the server (its default backend, as a user runs it): refused from the header at once, under 400 MB,
    // /health answering meanwhile
    const server = await startServer([bundle, '--port', '0', '--threads', '1']);
    try {
      const idle = await pingHealth(server.url, 1000);
      const pinger = pingHealth(server.url, 3000);
      await new Promise((resolve) => setTimeout(resolve, 300));
      const post = async (bytes: Uint8Array<ArrayBuffer>, type: string) => (await fetch(`${server.url}/predict`, { method: 'POST', body: bytes, headers: { 'content-type': type } })).status;
      for (let round = 0; round < 3; round++) {
        expect(await post(new Uint8Array(files.avif[1]), 'image/avif')).toBe(400);
        expect(await post(new Uint8Array(files.strip[1]), 'image/png')).toBe(400);
        expect(await post(new Uint8Array(files.gif[1]), 'image/gif')).toBe(200);
      }
      const pings = await pinger;
      expectResponsive(pings, idle, 'while pictures were refused and answered');
      const memory = await memoryOf(server.child.pid!);
      expect(memory.peak, `peak ${memory.peak.toFixed(0)} MB`).toBeLessThan(400);
    } finally {
      server.child.kill('SIGKILL');
    }
  });

  it('100 concurrent 10 MB uploads: 503 beyond the bytes admitted before their bodies are read, memory bounded and given back, /health answering', async () => {
    const server = await startServer([bundle, '--port', '0', '--backend', 'cpu']);
    try {
      const start = await memoryOf(server.child.pid!);
      const { hostname, port } = new URL(server.url);
      const body = Buffer.alloc(10 * 2 ** 20 - 1024, 7); // under the 10 MiB body limit, not a picture
      const upload = () =>
        new Promise<string>((resolve) => {
          let answer = '';
          const socket = connect(Number(port), hostname, () => {
            socket.write(`POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/png\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`);
            socket.write(body);
          });
          socket.on('data', (chunk) => (answer += chunk.toString('latin1')));
          socket.on('error', () => undefined); // a 503 closes the connection while the body is still being sent
          socket.on('close', () => resolve(answer.split('\r\n')[0] ?? ''));
          setTimeout(() => socket.destroy(), 60_000);
        });
      const latencies: number[] = [];
      let done = false;
      const pinger = (async () => {
        while (!done) {
          const started = performance.now();
          await fetch(`${server.url}/health`);
          latencies.push(performance.now() - started);
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      })();
      const statuses = await Promise.all(Array.from({ length: 100 }, upload));
      done = true;
      await pinger;
      const busy = statuses.filter((line) => line.startsWith('HTTP/1.1 503'));
      const answered = statuses.filter((line) => line.startsWith('HTTP/1.1 400')); // admitted, then refused as no picture
      expect(busy.length, statuses.join(' | ')).toBeGreaterThan(50);
      expect(busy.length + answered.length, statuses.join(' | ')).toBe(100);
      const after = await memoryOf(server.child.pid!);
      expect(after.peak, `peak ${after.peak.toFixed(0)} MB`).toBeLessThan(600);
      latencies.sort((a, b) => a - b);
      expect(latencies[Math.floor(latencies.length * 0.9)]).toBeLessThan(500);
      const health = await (await fetch(`${server.url}/health`)).json();
      expect(health).toMatchObject({ status: 'ok', inFlight: 0, queued: 0 });
      expect((await (await fetch(`${server.url}/info`)).json()).server.bodyBytesInFlight).toBe(0);
      // the bodies are given back: within 200 MB of the start once the refused connections have closed (they drop
      // what still arrives for 2 s). What stays is garbage an idle process does not collect (V8 collects buffers
      // after about 64 MB more of them) and the allocator's free lists, not the bodies: measured 98–154 MB after one
      // burst, and the same after three bursts in a row (the bug this guards against held 875 MB: the bodies)
      let grown = Infinity;
      for (let waited = 0; waited < 15_000 && grown >= 200; waited += 500) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        grown = (await memoryOf(server.child.pid!)).now - start.now;
      }
      expect(grown, `${grown.toFixed(0)} MB above the start`).toBeLessThan(200);
    } finally {
      server.child.kill('SIGKILL');
    }
  });

  it('a kindling.json edited to other labels is refused on load, in one line', async () => {
    const edited = join(root, 'edited');
    const { cpSync } = await import('node:fs');
    cpSync(bundle, edited, { recursive: true });
    const manifest = JSON.parse(readFileSync(join(edited, 'kindling.json'), 'utf8'));
    manifest.task.labels = ['a', 'b'];
    writeFileSync(join(edited, 'kindling.json'), JSON.stringify(manifest));
    const outcome = await kindling(['predict', edited, join(root, 'shapes', 'circle', '0000.png'), '--backend', 'cpu']);
    expect(outcome.code).toBe(1);
    expect(errorLines(outcome)).toEqual([expect.stringMatching(/kindling: .*edited: the task in kindling.json .* does not match its checksum/)]);
    // removing the checksum as well is no way past it
    delete manifest.taskSha256;
    writeFileSync(join(edited, 'kindling.json'), JSON.stringify(manifest));
    const stripped = await kindling(['predict', edited, join(root, 'shapes', 'circle', '0000.png'), '--backend', 'cpu']);
    expect(stripped.code).toBe(1);
    expect(errorLines(stripped)).toEqual([expect.stringMatching(/kindling: .*edited: kindling.json has no task checksum \(taskSha256\), which every bundle Kindling writes has/)]);
  });

  it('a request under a foreign host name is refused without a token (DNS rebinding); --allowed-host names it', async () => {
    const server = await startServer([bundle, '--port', '0', '--backend', 'cpu']);
    const named = await startServer([bundle, '--port', '0', '--backend', 'cpu', '--allowed-host', 'kindling.example']);
    try {
      const picture = readFileSync(join(root, 'shapes', 'circle', '0000.png'));
      const post = (url: string, host: string) => rawRequest(url, `POST /predict HTTP/1.1\r\nHost: ${host}\r\nOrigin: http://${host}\r\nContent-Type: image/png\r\nContent-Length: ${picture.length}\r\nConnection: close\r\n\r\n`, picture);
      expect(await post(server.url, 'rebound.example:8080')).toMatch(/^HTTP\/1\.1 403 [\s\S]*requests for the host name 'rebound\.example' are not allowed/);
      expect(await post(named.url, 'kindling.example')).toMatch(/^HTTP\/1\.1 200 /);
      expect(await post(server.url, '127.0.0.1')).toMatch(/^HTTP\/1\.1 200 /);
    } finally {
      server.child.kill('SIGKILL');
      named.child.kill('SIGKILL');
    }
  });

  afterAll(() => undefined);
});
