import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from './errors';
import { checkWritableFolder, optionalPeer, removeStaleTemporaries, writeFileAtomic } from './node-files';

describe('Node file helpers', () => {
  it('writes atomically, leaves no temporary behind, and clears the leftovers of a killed write', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'kindling-atomic-'));
    const path = join(folder, 'deep', 'model.json');
    await writeFileAtomic(path, '{"a":1}');
    await writeFileAtomic(path, new TextEncoder().encode('{"a":2}'));
    expect(readFileSync(path, 'utf8')).toBe('{"a":2}');
    expect(readdirSync(join(folder, 'deep'))).toEqual(['model.json']);
    writeFileSync(join(folder, 'deep', '.model.json.99999-abc.tmp'), 'half a write');
    await removeStaleTemporaries(path);
    expect(readdirSync(join(folder, 'deep'))).toEqual(['model.json']);
  });

  it('checks an output folder before the work: one it cannot write, or whose disk is too full, is one line; it leaves nothing behind', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'kindling-writable-'));
    await checkWritableFolder(join(folder, 'runs', 'image'), { what: '--out runs/image', needBytes: 1024 });
    expect(existsSync(join(folder, 'runs'))).toBe(false); // the folders made for the check went again
    writeFileSync(join(folder, 'a-file'), 'not a folder');
    await expect(checkWritableFolder(join(folder, 'a-file', 'image'), { what: '--out a-file/image' })).rejects.toThrow(new ConfigError('--out a-file/image: cannot write there (ENOTDIR: a file stands where a folder is needed); choose another folder'));
    await expect(checkWritableFolder(folder, { what: '--out runs', needBytes: 2 ** 60 })).rejects.toThrow(/^--out runs: its disk has [\d.]+ MB free; the run writes up to \d+ MB there: free some space or choose another folder$/);
    expect(readdirSync(folder)).toEqual(['a-file']);
  });

  it('names a missing optional peer, what needs it and how to install it; other failures pass through', async () => {
    const missing = optionalPeer('kindling-no-such-package', '@kindling/example (drawing)', () => import('kindling-no-such-package' as string));
    await expect(missing).rejects.toBeInstanceOf(ConfigError);
    await expect(missing).rejects.toThrow('@kindling/example (drawing) needs the package kindling-no-such-package, an optional peer dependency: npm install kindling-no-such-package');
    await expect(optionalPeer('csv-parse', 'x', () => Promise.reject(new Error('broken build')))).rejects.toThrow('broken build');
    expect(typeof (await optionalPeer('csv-parse', 'x', () => import('csv-parse'))).parse).toBe('function');
  });
});
