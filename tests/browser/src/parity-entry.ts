/** Bundled for the browser: computes the same things the Node side of the parity test computes. */
import { parityCases } from './parity-cases';

(globalThis as unknown as { kindlingParity: typeof parityCases }).kindlingParity = parityCases;
