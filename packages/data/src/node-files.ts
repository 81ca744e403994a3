import { mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ConfigError } from './errors';

/** The start of the names of `path`'s temporary files (`.name.`), so leftovers of a killed write can be found. */
function temporaryPrefix(path: string): string {
  return `.${basename(path)}.`;
}

/** Removes temporary files of earlier writes to `path` that were killed before their rename (not this process's). */
export async function removeStaleTemporaries(path: string): Promise<void> {
  const prefix = temporaryPrefix(path);
  const mine = `${prefix}${process.pid}-`;
  const names = await readdir(dirname(path)).catch(() => [] as string[]);
  await Promise.all(names.filter((name) => name.startsWith(prefix) && name.endsWith('.tmp') && !name.startsWith(mine)).map((name) => rm(join(dirname(path), name), { force: true })));
}

/** Writes `data` to `path` atomically: a temporary file beside it, flushed to disk, then renamed over. */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = join(dirname(path), `${temporaryPrefix(path)}${process.pid}-${Math.random().toString(36).slice(2)}.tmp`);
  const handle = await open(temporary, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/**
 * Loads an optional peer dependency when it is first needed. Kindling's Node-only libraries (sharp,
 * @napi-rs/canvas) are optional peers, so that a browser-only install pulls no native binaries; when one is
 * missing, the error names it, what needs it, and how to install it. `load` is `() => import('name')`, written in
 * the package that declares the peer, so the name resolves from there.
 */
export async function optionalPeer<T>(name: string, neededFor: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (error) {
    const code = (error as { code?: string }).code;
    if ((code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && String((error as Error).message).includes(`'${name}'`)) {
      throw new ConfigError(`${neededFor} needs the package ${name}, an optional peer dependency: npm install ${name}`);
    }
    throw error;
  }
}
