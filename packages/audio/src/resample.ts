/** Modified Bessel function of the first kind, order 0 (power series; converges fast for the betas used). */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const quarter = (x * x) / 4;
  for (let k = 1; k < 200; k++) {
    term *= quarter / (k * k);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}

const sinc = (x: number) => (x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x));
const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/**
 * A low-pass FIR filter: a windowed sinc with a Kaiser window, normalized to unit gain at DC
 * (scipy's `firwin(taps, cutoff, window=('kaiser', beta))`, cutoff relative to Nyquist).
 */
export function kaiserLowpass(taps: number, cutoff: number, beta = 5): Float64Array {
  const h = new Float64Array(taps);
  const alpha = (taps - 1) / 2;
  const i0Beta = besselI0(beta);
  let sum = 0;
  for (let n = 0; n < taps; n++) {
    const m = n - alpha;
    const ratio = taps === 1 ? 0 : (2 * n) / (taps - 1) - 1;
    h[n] = cutoff * sinc(cutoff * m) * (besselI0(beta * Math.sqrt(Math.max(0, 1 - ratio * ratio))) / i0Beta);
    sum += h[n]!;
  }
  for (let n = 0; n < taps; n++) h[n]! /= sum;
  return h;
}

/**
 * Band-limited resampling by a rational factor (polyphase FIR, the same filter and alignment as
 * scipy's `resample_poly` with its default Kaiser window, β = 5): content above the lower Nyquist
 * frequency is removed instead of folding back as aliases. Output length `ceil(n · to / from)`.
 */
export function resample(samples: Float32Array, fromRate: number, toRate: number): Float32Array {
  if (!(Number.isInteger(fromRate) && Number.isInteger(toRate) && fromRate > 0 && toRate > 0)) {
    throw new RangeError(`resample: sample rates must be positive whole numbers (got ${fromRate} → ${toRate})`);
  }
  return resampleByRatio(samples, toRate, fromRate);
}

/** Polyphase filters by `up:down`, kept: speed perturbation draws from a few dozen ratios again and again. */
const filters = new Map<string, { h: Float64Array; preRemove: number }>();
const MAX_KEPT_FILTERS = 64;
/** Longer filters (odd ratios such as 8000:9037) are made for each call instead of kept: at most 64 × 800 KB kept. */
const MAX_KEPT_TAPS = 100_000;

/**
 * The largest reduced rate of a resampling ratio: its filter has 20 taps a unit (400,001 at most, 3.2 MB). Common
 * rates reduce far below it (44,100 → 16,000 Hz is 160:441); two rates with no common factor (44,101 → 16,000) would
 * need millions of taps, seconds and hundreds of megabytes.
 */
export const MAX_RESAMPLING_RATIO = 20_000;

function polyphaseFilter(up: number, down: number): { h: Float64Array; preRemove: number } {
  const key = `${up}:${down}`;
  const kept = filters.get(key);
  if (kept) return kept;
  const maxRate = Math.max(up, down);
  if (maxRate > MAX_RESAMPLING_RATIO) {
    throw new RangeError(`resampling by ${up}:${down} needs a filter of ${(20 * maxRate + 1).toLocaleString('en-US')} taps; the limit is ${(20 * MAX_RESAMPLING_RATIO + 1).toLocaleString('en-US')} (rates whose ratio reduces to whole numbers up to ${MAX_RESAMPLING_RATIO.toLocaleString('en-US')})`);
  }
  const halfLength = 10 * maxRate;
  const filter = kaiserLowpass(2 * halfLength + 1, 1 / maxRate);
  // Pad the filter in front so output samples fall on the filter's centre (scipy's alignment).
  const prePad = down - (halfLength % down);
  const h = new Float64Array(prePad + filter.length);
  for (let i = 0; i < filter.length; i++) h[prePad + i] = filter[i]! * up;
  const made = { h, preRemove: Math.floor((halfLength + prePad) / down) };
  if (h.length > MAX_KEPT_TAPS) return made;
  if (filters.size >= MAX_KEPT_FILTERS) filters.delete(filters.keys().next().value!);
  filters.set(key, made);
  return made;
}

/** `resample` by the ratio `up / down` of output to input samples (whole numbers, reduced here). */
export function resampleByRatio(samples: Float32Array, upFactor: number, downFactor: number): Float32Array {
  const divisor = gcd(upFactor, downFactor);
  const up = upFactor / divisor;
  const down = downFactor / divisor;
  if (up === 1 && down === 1) return samples.slice();
  const nIn = samples.length;
  const nOut = Math.ceil((nIn * up) / down);
  const { h, preRemove } = polyphaseFilter(up, down);
  const out = new Float32Array(nOut);
  // y[k] = Σ_i x[i] · h[t − i·up] with t = (k + preRemove) · down, over i where 0 ≤ t − i·up < len(h).
  for (let k = 0; k < nOut; k++) {
    const t = (k + preRemove) * down;
    const first = Math.max(0, Math.ceil((t - h.length + 1) / up));
    const last = Math.min(nIn - 1, Math.floor(t / up));
    let sum = 0;
    for (let i = first; i <= last; i++) sum += samples[i]! * h[t - i * up]!;
    out[k] = sum;
  }
  return out;
}
