import { registerTorchBackend, TorchUnavailableError } from './index';

/**
 * For this package's tests: registers the torch backend on `threads` threads and returns `undefined`, or, where
 * the addon is not built, warns that `suite` is skipped and returns why (CI requires the addon, so it never
 * skips there).
 */
export function torchSkipReason(suite: string, threads?: number): string | undefined {
  try {
    registerTorchBackend({ threads });
    return undefined;
  } catch (error) {
    if (!(error instanceof TorchUnavailableError)) throw error;
    console.warn(`${suite} skipped: ${error.message}`);
    return error.message;
  }
}
