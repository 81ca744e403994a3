// A downstream web page (bundled for the browser, no Node built-ins): starts the best backend the browser
// has, loads an image bundle written by `kindling train image` (or the Node example) from a URL, and answers
// for a picture the visitor chooses. Serve the bundle's folder beside the page as `model/`.
import { initBackend } from '@kindling/backend';
import { registerTask } from '@kindling/deploy';
import { loadPredictor } from '@kindling/deploy/browser';
import { imageTask } from '@kindling/image/predict';

// the one kind this page reads: its bundle then carries no sound, pointer or table code
registerTask(imageTask);

const status = document.querySelector<HTMLParagraphElement>('#status')!;
const input = document.querySelector<HTMLInputElement>('#picture')!;
const answer = document.querySelector<HTMLParagraphElement>('#answer')!;

async function start(): Promise<void> {
  // webgpu where the browser has a hardware adapter, else wasm from the binary @kindling/backend embeds: nothing to copy
  const report = await initBackend({ log: false });
  status.textContent = `TensorFlow.js runs on ${report.name} (${report.detail})`;
  const predictor = await loadPredictor(new URL('model/', location.href).href, { kind: 'image' });
  input.disabled = false;
  input.addEventListener('change', async () => {
    const file = input.files?.[0];
    if (file === undefined) return;
    const prediction = await predictor.predict(new Uint8Array(await file.arrayBuffer()));
    answer.textContent = prediction.top.map((entry) => `${entry.label} ${(entry.score * 100).toFixed(1)}%`).join(', ');
    answer.dataset.label = prediction.label;
    answer.dataset.confidence = String(prediction.confidence);
  });
}

start().catch((error: unknown) => {
  status.textContent = `could not start: ${error instanceof Error ? error.message : String(error)}`;
});
