import { startBackend } from './backend';
import { registerModalities } from './modalities';
import { el } from './ui';
import { imageView } from './views/image';
import { mouseView } from './views/mouse';
import { recommendView } from './views/recommend';
import { segmentationView } from './views/segmentation';
import { soundView } from './views/sound';
import { tabularView } from './views/tabular';
import { teachView } from './views/teach';

const VIEWS: Array<{ id: string; title: string; create: (panel: HTMLElement) => Promise<void> }> = [
  { id: 'image', title: 'Pictures', create: imageView },
  { id: 'sound', title: 'Sounds', create: soundView },
  { id: 'mouse', title: 'Mouse movements', create: mouseView },
  { id: 'segmentation', title: 'Segmentation', create: segmentationView },
  { id: 'tabular', title: 'Tables', create: tabularView },
  { id: 'recommend', title: 'Recommendations', create: recommendView },
  { id: 'teach', title: 'Teach it', create: teachView },
];

registerModalities();

const status = document.getElementById('backend-status')!;
const tabs = document.getElementById('tabs')!;
const views = document.getElementById('views')!;
const ready = new Map<string, Promise<void>>();

function select(id: string, focus = false): void {
  for (const view of VIEWS) {
    const selected = view.id === id;
    const tab = document.getElementById(`tab-${view.id}`)!;
    tab.setAttribute('aria-selected', String(selected));
    tab.tabIndex = selected ? 0 : -1;
    document.getElementById(`panel-${view.id}`)!.hidden = !selected;
    if (selected && focus) tab.focus();
  }
  const view = VIEWS.find((entry) => entry.id === id)!;
  if (!ready.has(id)) {
    const panel = document.getElementById(`panel-${id}`)!;
    panel.dataset.state = 'loading';
    ready.set(
      id,
      view.create(panel).then(
        () => void (panel.dataset.state = 'ready'),
        (error: unknown) => {
          panel.dataset.state = 'failed';
          panel.append(el('p', { className: 'error' }, `This view could not start: ${error instanceof Error ? error.message : String(error)}`));
        },
      ),
    );
  }
  history.replaceState(null, '', `#${id}`);
}

for (const view of VIEWS) {
  tabs.append(el('button', { role: 'tab', id: `tab-${view.id}`, 'aria-controls': `panel-${view.id}`, type: 'button', onclick: () => select(view.id) }, view.title));
  views.append(el('section', { role: 'tabpanel', id: `panel-${view.id}`, 'aria-labelledby': `tab-${view.id}`, hidden: true }));
}
// arrow keys move between tabs (the ARIA tabs pattern)
tabs.addEventListener('keydown', (event) => {
  const index = VIEWS.findIndex((view) => document.getElementById(`tab-${view.id}`) === document.activeElement);
  if (index < 0) return;
  const step = event.key === 'ArrowRight' ? 1 : event.key === 'ArrowLeft' ? -1 : 0;
  if (step === 0) return;
  event.preventDefault();
  select(VIEWS[(index + step + VIEWS.length) % VIEWS.length]!.id, true);
});

try {
  const report = await startBackend();
  const skipped = report.skipped.length === 0 ? '' : ` — ${report.skipped.map((entry) => `not ${entry.name}: ${entry.reason}`).join('; ')}`;
  // plain words first; what a developer wants to know behind "details"
  const plain: Record<string, string> = {
    webgpu: report.adapter?.software === true ? 'this device\'s processor, through a software graphics adapter (WebGPU)' : 'this device\'s graphics processor (WebGPU)',
    wasm: 'this device\'s processor (WebAssembly)',
    cpu: 'this device\'s processor, in plain JavaScript (the slowest way)',
  };
  status.replaceChildren(
    `The models run on ${plain[report.name] ?? report.name}. `,
    el('details', {}, el('summary', {}, 'details'), el('span', { className: 'technical' }, `TensorFlow.js runs on ${report.name} (${report.detail})${skipped}.`)),
  );
  status.dataset.backend = report.name;
  const fromHash = location.hash.slice(1);
  select(VIEWS.some((view) => view.id === fromHash) ? fromHash : 'image');
} catch (error) {
  status.textContent = `TensorFlow.js could not start: ${error instanceof Error ? error.message : String(error)}`;
  status.classList.add('error');
}
