/** Small DOM helpers shared by the views (no framework: plain, accessible elements). */

type Child = Node | string | null | undefined | false;

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, properties: Partial<Record<string, unknown>> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(properties)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') element.addEventListener(key.slice(2).toLowerCase(), value as EventListener);
    else if (key === 'dataset') Object.assign(element.dataset, value);
    else if (key in element && key !== 'list') (element as unknown as Record<string, unknown>)[key] = value;
    else element.setAttribute(key, String(value));
  }
  element.append(...children.filter((child): child is Node | string => child !== null && child !== undefined && child !== false));
  return element;
}

/** What belongs to an answer beside its text (its bars, "what the model sees", the picture asked about), per output. */
const resultParts = new WeakMap<HTMLElement, HTMLElement[]>();

/**
 * Ties the parts that show one answer to its output: a new input clears them with the text (no answer for an
 * earlier input stays beside a new one), and an error replaces them all. Lists are emptied, canvases and
 * pictures hidden with their figure until drawn again (`drawPixels`, `showPart`).
 */
export function linkResult(output: HTMLElement, ...parts: HTMLElement[]): void {
  resultParts.set(output, parts);
}

/** Shows a part hidden by `startWork` or `showError` again, once it shows the current input. */
export function showPart(part: HTMLElement): void {
  (part.closest('figure') ?? part).hidden = false;
}

/** No answer, error or linked part left: the output as before any input. */
export function clearAnswer(output: HTMLElement): void {
  endWork(output);
  clearError(output);
  clearResult(output);
}

function clearResult(output: HTMLElement): void {
  output.replaceChildren();
  output.classList.remove('not-sure');
  delete output.dataset.prediction;
  delete output.dataset.notSure;
  for (const part of resultParts.get(output) ?? []) {
    if (part instanceof HTMLUListElement || part instanceof HTMLOListElement) part.replaceChildren();
    else (part.closest('figure') ?? part).hidden = true;
  }
}

/**
 * The answer as text, and as JSON in `data-prediction` (what the end-to-end tests read); `data-answers` counts
 * the answers and errors given. An answer the bundle marks `notSure` reads "Not sure", with the best guess and
 * the reason beside it.
 */
export function showAnswer(output: HTMLElement, text: string, prediction: unknown): void {
  endWork(output);
  const notSure = typeof prediction === 'object' && prediction !== null && typeof (prediction as { notSure?: unknown }).notSure === 'string' ? (prediction as { notSure: string }).notSure : undefined;
  output.classList.toggle('not-sure', notSure !== undefined);
  if (notSure === undefined) {
    output.textContent = text;
    delete output.dataset.notSure;
  } else {
    output.replaceChildren('Not sure', el('span', { className: 'guess' }, ` — best guess ${text}`), el('small', { className: 'reason' }, notSure));
    output.dataset.notSure = notSure;
  }
  output.dataset.prediction = JSON.stringify(prediction, (_, value) => (ArrayBuffer.isView(value) ? Array.from(value as Uint8Array) : value));
  counted(output);
  output.dispatchEvent(new CustomEvent('prediction', { bubbles: true }));
}

/** The error in place of the answer and everything linked to it (`linkResult`): nothing of an earlier answer stays. */
export function showError(output: HTMLElement, error: unknown): void {
  endWork(output);
  clearResult(output);
  output.textContent = error instanceof Error ? error.message : String(error);
  output.classList.add('error');
  output.dataset.error = output.textContent;
  counted(output);
}

function counted(output: HTMLElement): void {
  output.dataset.answers = String(Number(output.dataset.answers ?? 0) + 1);
}

/**
 * An answer on its way for a new input: the output and its linked parts are cleared and it says "working…" (and
 * is aria-busy) until the answer. `keep` leaves the last answer beside "working…": for an input that changes
 * continuously (a form being edited, the camera's frames), where clearing would flicker.
 */
export function startWork(output: HTMLElement, options: { keep?: boolean } = {}): void {
  clearError(output);
  if (options.keep !== true) clearResult(output);
  output.classList.add('busy');
  output.setAttribute('aria-busy', 'true');
}

function endWork(output: HTMLElement): void {
  output.classList.remove('busy');
  output.removeAttribute('aria-busy');
}

export function clearError(output: HTMLElement): void {
  output.classList.remove('error');
  delete output.dataset.error;
}

/**
 * Brings an answer a person asked for (a sample, a file, a button) into view with what is linked beside it
 * in its `.result` box: on a phone it may be a screen or two below the input. Answers that follow the pointer
 * or the camera do not move the page.
 */
export function reveal(output: HTMLElement): void {
  const smooth = !window.matchMedia('(prefers-reduced-motion: reduce)').matches;
  (output.closest('.result') ?? output).scrollIntoView({ block: 'nearest', behavior: smooth ? 'smooth' : 'auto' });
}

/** Probabilities as labelled bars, most likely first. */
export function renderBars(list: HTMLUListElement, probabilities: Record<string, number>, top = 5): void {
  const entries = Object.entries(probabilities).sort((a, b) => b[1] - a[1]).slice(0, top);
  list.replaceChildren(
    ...entries.map(([label, probability]) =>
      el('li', {}, el('span', {}, label), el('span', { className: 'bar', role: 'meter', 'aria-valuemin': 0, 'aria-valuemax': 1, 'aria-valuenow': probability.toFixed(3), 'aria-label': label }, el('span', { style: `width: ${(probability * 100).toFixed(1)}%` })), el('span', {}, `${(probability * 100).toFixed(1)}%`)),
    ),
  );
}

/** Draws RGB(A) bytes or [0, 1] floats into a canvas, scaled up with square pixels. */
export function drawPixels(canvas: HTMLCanvasElement, pixels: ArrayLike<number>, width: number, height: number, options: { channels?: number; scale?: number; floats?: boolean } = {}): void {
  const { channels = 3, scale = 4, floats = false } = options;
  const image = new ImageData(width, height);
  for (let i = 0; i < width * height; i++) {
    for (let c = 0; c < 3; c++) {
      const value = pixels[i * channels + Math.min(c, channels - 1)]!;
      image.data[i * 4 + c] = floats ? Math.round(Math.max(0, Math.min(1, value)) * 255) : value;
    }
    image.data[i * 4 + 3] = 255;
  }
  canvas.width = width;
  canvas.height = height;
  canvas.style.width = `${width * scale}px`;
  canvas.style.height = 'auto'; // the canvas's own shape; narrower on a phone (max-width: 100%)
  canvas.getContext('2d')!.putImageData(image, 0, 0);
  showPart(canvas);
}

/** A file picker that also takes dropped files. */
export function filePicker(options: { label: string; accept: string; id: string; multiple?: boolean; onFiles: (files: File[]) => void }): HTMLElement {
  const input = el('input', { type: 'file', accept: options.accept, id: options.id, multiple: options.multiple ?? false, onchange: () => input.files && input.files.length > 0 && options.onFiles(Array.from(input.files)) });
  const zone = el('div', { className: 'drop' }, el('label', { htmlFor: options.id }, options.label), input, el('p', { className: 'hint' }, 'or drop a file here'));
  zone.addEventListener('dragover', (event) => {
    event.preventDefault();
    zone.classList.add('over');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (event) => {
    event.preventDefault();
    zone.classList.remove('over');
    const files = Array.from(event.dataTransfer?.files ?? []);
    if (files.length > 0) options.onFiles(files);
  });
  return zone;
}

/** A line chart of series of (x, y) points as inline SVG. */
export function renderChart(svg: SVGSVGElement, series: Array<{ name: string; points: Array<[number, number]>; colour: string }>, size = { width: 360, height: 180 }): void {
  const all = series.flatMap((line) => line.points);
  svg.setAttribute('viewBox', `0 0 ${size.width} ${size.height}`);
  svg.setAttribute('width', String(size.width));
  svg.setAttribute('height', String(size.height));
  if (all.length === 0) {
    svg.replaceChildren();
    return;
  }
  const [xs, ys] = [all.map((point) => point[0]), all.map((point) => point[1])];
  const [xMin, xMax, yMin, yMax] = [Math.min(...xs), Math.max(...xs, Math.min(...xs) + 1), Math.min(0, ...ys), Math.max(...ys, 1e-6)];
  const pad = 24;
  const x = (value: number) => pad + ((value - xMin) / (xMax - xMin)) * (size.width - 2 * pad);
  const y = (value: number) => size.height - pad - ((value - yMin) / (yMax - yMin)) * (size.height - 2 * pad);
  const ns = 'http://www.w3.org/2000/svg';
  const children: SVGElement[] = [];
  series.forEach((line, index) => {
    const path = document.createElementNS(ns, 'polyline');
    path.setAttribute('fill', 'none');
    path.setAttribute('stroke', line.colour);
    path.setAttribute('stroke-width', '1.5');
    path.setAttribute('points', line.points.map(([px, py]) => `${x(px).toFixed(1)},${y(py).toFixed(1)}`).join(' '));
    children.push(path);
    const legend = document.createElementNS(ns, 'text');
    legend.setAttribute('x', String(size.width - 120));
    legend.setAttribute('y', String(16 + index * 14));
    legend.setAttribute('font-size', '11');
    legend.setAttribute('fill', line.colour);
    legend.textContent = line.name;
    children.push(legend);
  });
  const label = document.createElementNS(ns, 'text');
  label.setAttribute('x', '4');
  label.setAttribute('y', '14');
  label.setAttribute('font-size', '11');
  label.textContent = `loss (max ${yMax.toFixed(2)})`;
  children.push(label);
  svg.replaceChildren(...children);
}

/** Lets the browser paint and handle input (training yields with this between batches). */
export function nextFrame(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
