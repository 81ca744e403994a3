import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from './errors';
import { optionalPeer, removeStaleTemporaries, writeFileAtomic } from './node-files';

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

  it('names a missing optional peer, what needs it and how to install it; other failures pass through', async () => {
    const missing = optionalPeer('kindling-no-such-package', '@kindling/example (drawing)', () => import('kindling-no-such-package' as string));
    await expect(missing).rejects.toBeInstanceOf(ConfigError);
    await expect(missing).rejects.toThrow('@kindling/example (drawing) needs the package kindling-no-such-package, an optional peer dependency: npm install kindling-no-such-package');
    await expect(optionalPeer('csv-parse', 'x', () => Promise.reject(new Error('broken build')))).rejects.toThrow('broken build');
    expect(typeof (await optionalPeer('csv-parse', 'x', () => import('csv-parse'))).parse).toBe('function');
  });
});
