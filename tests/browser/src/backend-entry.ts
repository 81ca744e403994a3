/** Bundled for the page: starts a backend the way a web app does, and reports what happened. */
import { initBackend, type InitBackendOptions } from '@kindling/backend';

async function start(options: InitBackendOptions): Promise<{ name?: string; skipped?: Array<{ name: string; reason: string }>; error?: string }> {
  try {
    const report = await initBackend({ ...options, log: false });
    return { name: report.name, skipped: report.skipped };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

(globalThis as unknown as { kindlingBackend: unknown }).kindlingBackend = { start };
