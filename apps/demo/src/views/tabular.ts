import type { TabularPredictor } from '@kindling/tabular';
import { loadPredictor } from '@kindling/deploy/browser';
import { el, linkResult, renderBars, showAnswer, showError, startWork } from '../ui';
import { aboutLine, aboutOf, MODELS, percent, sampleButtons, type Sample } from './shared';
import type { TableRow } from '@kindling/tabular';

/** A table row as a form; the prediction follows every change. */
export async function tabularView(panel: HTMLElement): Promise<void> {
  const [predictor, about] = await Promise.all([loadPredictor(`${MODELS}/tabular/`) as Promise<TabularPredictor>, aboutOf('tabular')]);
  const { schema, state } = predictor.processor;
  const answer = el('output', { id: 'tabular-answer', className: 'answer', 'aria-live': 'polite' });
  const bars = el('ul', { className: 'bars', 'aria-label': 'probability of each answer' });
  const form = el('form', { className: 'table-form', id: 'tabular-form', onsubmit: (event: Event) => event.preventDefault() });
  const fields = new Map<string, HTMLInputElement | HTMLSelectElement>();
  linkResult(answer, bars);

  for (const column of schema.categorical) {
    const labels = state.categorical.find((entry) => entry.name === column)?.labels.slice(1) ?? [];
    const select = el('select', { id: `field-${column}`, name: column }, el('option', { value: '' }, '(missing)'), ...labels.map((label) => el('option', { value: label }, label)));
    select.value = labels[0] ?? '';
    fields.set(column, select);
  }
  for (const column of schema.continuous) {
    const fill = state.continuous.find((entry) => entry.name === column)?.fill ?? 0;
    fields.set(column, el('input', { id: `field-${column}`, name: column, type: 'number', step: 'any', value: String(Math.round(fill * 100) / 100) }));
  }
  for (const column of schema.dates) fields.set(column, el('input', { id: `field-${column}`, name: column, type: 'date' }));
  // the columns in words where the data's record has them ("Years of education" for education-num)
  const words = (column: string) => about.fields?.[column] ?? column;
  for (const [column, field] of fields) form.append(el('label', { htmlFor: field.id, title: column }, words(column), field));

  const row = (): TableRow => Object.fromEntries([...fields].map(([column, field]) => [column, field.value === '' ? null : schema.continuous.includes(column) ? Number(field.value) : field.value]));
  let pending = 0;
  /** Answers the form's row; an edit keeps the last answer beside "working…" (answers follow every keystroke). */
  const run = async () => {
    const ticket = ++pending;
    startWork(answer, { keep: true });
    try {
      const asked = row();
      const prediction = await predictor.predict(asked);
      if (ticket !== pending) return; // a newer edit is on its way
      answer.dataset.row = JSON.stringify(asked); // the row this answer is for
      if (prediction.kind === 'classification') {
        showAnswer(answer, `${words(schema.target)}: ${prediction.label} (${percent(prediction.probabilities[prediction.label]!)})`, prediction);
        renderBars(bars, prediction.probabilities);
      } else {
        showAnswer(answer, `${words(schema.target)}: ${prediction.value.toPrecision(4)}`, prediction);
      }
    } catch (error) {
      showError(answer, error);
    }
  };
  form.addEventListener('input', () => void run());
  form.addEventListener('change', () => void run());

  // a sample row fills the form (a value the model never saw in training becomes "(missing)", as it would for the model)
  const fill = async (sample: Sample) => {
    for (const [column, field] of fields) {
      const value = sample.row?.[column];
      field.value = value === null || value === undefined ? '' : String(value);
    }
    await run();
  };

  panel.append(
    el('p', {}, `A tabular model trained by \`kindling train tabular\` predicts '${words(schema.target)}' from the other columns (with the training set's vocabularies, medians and scaling). Change a field.`),
    aboutLine(about),
    sampleButtons('tabular-samples', about.samples, (sample, index) => `person ${index + 1}${sample.truth === undefined ? '' : ` (${sample.truth})`}`, fill, answer),
    el('div', { className: 'row' }, form, el('div', { className: 'result' }, answer, bars)),
  );
  await run();
}
