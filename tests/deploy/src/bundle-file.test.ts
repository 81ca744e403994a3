import { initBackend } from '@kindling/backend/node';
import { zipSync } from 'fflate';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { BundleError, bundleFiles, bundleFromFile, bundleToFile, loadBundle as loadOverHttp, MAX_BUNDLE_ENTRY_BYTES, type Bundle } from '@kindling/deploy';
import { loadBundle, loadPredictor, saveBundle } from '@kindling/deploy/node';
import { exampleBundle, exampleInputs } from './testing';

/** Answers of a predictor for some inputs, as plain data. */
async function answers(source: Bundle | string, inputs: unknown[]): Promise<unknown[]> {
  const predictor = await loadPredictor(source);
  try {
    return await Promise.all(inputs.map((input) => predictor.predict(input as never)));
  } finally {
    predictor.dispose();
  }
}

/** Sets the size a zip's central directory declares for one entry, unpacked: a header that lies. */
function declareSize(zip: Uint8Array, entry: string, size: number): Uint8Array {
  const copy = zip.slice();
  const view = new DataView(copy.buffer);
  for (let offset = 0; offset + 46 <= copy.length; offset++) {
    if (view.getUint32(offset, true) !== 0x02014b50) continue;
    const nameLength = view.getUint16(offset + 28, true);
    if (new TextDecoder().decode(copy.subarray(offset + 46, offset + 46 + nameLength)) === entry) {
      view.setUint32(offset + 24, size, true);
      return copy;
    }
  }
  throw new Error(`no ${entry} in the zip`);
}

describe('a bundle as one .kindling file', () => {
  const directory = mkdtempSync(join(tmpdir(), 'kindling-bundle-file-'));
  let bundle: Bundle;
  let file: Uint8Array;

  beforeAll(async () => {
    await initBackend({ backend: 'cpu', log: false });
    bundle = await exampleBundle('image');
    file = bundleToFile(bundle);
  });

  it('is the same bytes for the same bundle, and answers as the bundle does from a path, a file:// URL and http', async () => {
    expect(bundleToFile(bundle)).toEqual(file);
    const path = join(directory, 'out', 'model.kindling');
    await saveBundle(bundle, path); // the folder is made
    expect(new Uint8Array(readFileSync(path))).toEqual(file);
    const inputs = exampleInputs('image', 3);
    const expected = await answers(bundle, inputs);
    expect(await answers(path, inputs)).toEqual(expected);
    expect(await answers(pathToFileURL(path).href, inputs)).toEqual(expected);
    // a file named otherwise is read as one file too (only a kindling.json names a folder's bundle)
    const renamed = join(directory, 'model.zip');
    writeFileSync(renamed, file);
    expect((await loadBundle(renamed)).manifest).toEqual(bundle.manifest);

    const server = createServer((request, response) => {
      if (request.url === '/models/model.kindling') response.end(file);
      else response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const fetched = await loadOverHttp(`http://127.0.0.1:${port}/models/model.kindling`);
      expect(fetched.weights).toEqual(bundle.weights);
    } finally {
      server.close();
    }
  });

  it('reads a zip made by hand: deflated, the files in one folder, other entries ignored', () => {
    const files = bundleFiles(bundle);
    const zipped = zipSync({
      'my model/': {},
      ...Object.fromEntries(Object.entries(files).map(([name, bytes]) => [`my model/${name}`, bytes])),
      'my model/report.html': new TextEncoder().encode('<p>report</p>'),
      '__MACOSX/my model/._kindling.json': new Uint8Array(8),
    }, { level: 6 });
    const read = bundleFromFile(zipped, 'model.zip');
    expect(read.manifest).toEqual(bundle.manifest);
    expect(read.weights).toEqual(bundle.weights);
  });

  describe('refuses, naming the file and what is wrong', () => {
    const refusal = (bytes: Uint8Array): string => {
      try {
        bundleFromFile(bytes, 'model.kindling');
      } catch (error) {
        expect(error).toBeInstanceOf(BundleError);
        expect((error as Error).message).toContain('model.kindling');
        expect((error as Error).message).not.toContain('\n');
        return (error as Error).message;
      }
      throw new Error('not refused');
    };

    it('a file that is no zip, and one cut short', () => {
      expect(refusal(new TextEncoder().encode('{"format":"kindling-bundle"}'))).toMatch(/not a one-file bundle: a \.kindling file is a zip of kindling\.json, model\.json, weights\.bin/);
      expect(refusal(file.subarray(0, Math.floor(file.length / 2)))).toMatch(/cannot be unzipped .*truncated or damaged/);
    });

    it('a zip without the weights, with two manifests, or with the files in different folders', () => {
      const files = bundleFiles(bundle);
      expect(refusal(zipSync({ 'kindling.json': files['kindling.json']!, 'model.json': files['model.json']! }))).toMatch(/weights\.bin is not in the \.kindling file/);
      expect(refusal(zipSync({ ...files, 'copy/kindling.json': files['kindling.json']! }))).toMatch(/kindling\.json is in the zip twice \(kindling\.json and copy\/kindling\.json\)/);
      expect(refusal(zipSync({ 'kindling.json': files['kindling.json']!, 'model.json': files['model.json']!, 'b/weights.bin': files['weights.bin']! }))).toMatch(/in different folders of the zip/);
    });

    it('a header that declares more than a bundle file may unpack to, before anything is unpacked', () => {
      const lying = declareSize(zipSync(bundleFiles(bundle), { level: 6 }), 'weights.bin', MAX_BUNDLE_ENTRY_BYTES + 1);
      expect(refusal(lying)).toMatch(new RegExp(`weights\\.bin says it unpacks to ${MAX_BUNDLE_ENTRY_BYTES + 1} bytes, past the ${MAX_BUNDLE_ENTRY_BYTES}-byte limit`));
    });

    it('weights changed inside the zip: their checksum', () => {
      const files = bundleFiles(bundle);
      const weights = files['weights.bin']!.slice();
      weights[0] = weights[0]! ^ 0xff;
      expect(refusal(zipSync({ ...files, 'weights.bin': weights }))).toMatch(/weights\.bin does not match its checksum/);
    });
  });
});
