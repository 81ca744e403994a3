import { mkdir, open, readdir, rename, rm, statfs } from 'node:fs/promises';
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
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
  } catch (error) {
    // a full disk (ENOSPC) or a failed rename leaves no temporary file behind
    await rm(temporary, { force: true });
    throw error;
  }
}

/** What the usual reasons a folder cannot be written mean, in words. */
const WRITE_FAILURES: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'a read-only file system',
  ENOSPC: 'no space left on the disk',
  EDQUOT: 'the disk quota is used up',
  EEXIST: 'a file stands where a folder is needed',
  ENOTDIR: 'a file stands where a folder is needed',
};

/**
 * Checks, before any work, that files can be written into `folder` (made if missing) and that its disk has at least
 * `needBytes` free: a read-only or full output folder would otherwise fail only when a long run writes its result.
 * Writes and removes one small file. A ConfigError names the folder as `what` calls it (a flag: `--out runs/x`).
 */
export async function checkWritableFolder(folder: string, options: { what?: string; needBytes?: number } = {}): Promise<void> {
  const { what = folder, needBytes = 0 } = options;
  const failed = (error: unknown) => {
    const code = (error as NodeJS.ErrnoException).code;
    return new ConfigError(`${what}: cannot write there (${code === undefined ? (error as Error).message : `${code}: ${WRITE_FAILURES[code] ?? 'the system refused'}`}); choose another folder`, { cause: error });
  };
  let created: string | undefined;
  try {
    created = await mkdir(folder, { recursive: true });
  } catch (error) {
    throw failed(error);
  }
  const probe = join(folder, `.kindling-write-check-${process.pid}-${Math.random().toString(36).slice(2)}.tmp`);
  try {
    try {
      const handle = await open(probe, 'w');
      try {
        await handle.writeFile('kindling');
        await handle.sync();
      } finally {
        await handle.close();
      }
    } catch (error) {
      throw failed(error);
    } finally {
      await rm(probe, { force: true });
    }
    if (needBytes > 0) {
      const disk = await statfs(folder).catch(() => undefined);
      const free = disk === undefined ? Infinity : disk.bavail * disk.bsize;
      if (free < needBytes) throw new ConfigError(`${what}: its disk has ${(free / 2 ** 20).toFixed(1)} MB free; the run writes up to ${(needBytes / 2 ** 20).toFixed(0)} MB there: free some space or choose another folder`);
    }
  } finally {
    // the folders made for the check go again: a run that fails later leaves nothing behind
    if (created !== undefined) await rm(created, { recursive: true, force: true });
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
