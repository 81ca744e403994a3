import type { CollabPredictor } from '@kindling/tabular';
import { loadPredictor } from '@kindling/deploy/browser';
import { clearAnswer, el, linkResult, showAnswer, showError, showPart } from '../ui';
import { aboutLine, aboutOf, MODELS, sampleButtons, type Sample } from './shared';

/** Recommendations: tick a few items you like (a new user: cold start), or ask for items like one. */
export async function recommendView(panel: HTMLElement): Promise<void> {
  const [predictor, about] = await Promise.all([loadPredictor(`${MODELS}/collab/`) as Promise<CollabPredictor>, aboutOf('recommend')]);
  const { items, users } = predictor.task;
  const filter = el('input', { type: 'search', id: 'item-filter', placeholder: 'filter items', 'aria-label': 'filter the items' });
  const list = el('fieldset', { className: 'items', id: 'item-list' }, el('legend', {}, 'Items you like'));
  const answer = el('output', { id: 'recommend-answer', className: 'answer', 'aria-live': 'polite' });
  const results = el('ol', { id: 'recommend-results', 'aria-label': 'recommended items' });
  const similarAnswer = el('output', { id: 'similar-answer', 'aria-live': 'polite' });
  const liked = new Set<string>();

  /** Items as a list, each with its score and a "similar" button; `meaning` says what the scores are. */
  const show = (output: HTMLElement, target: HTMLOListElement, hint: HTMLElement, entries: Array<{ item: string; score: number }>, text: string, prediction: unknown, meaning: string) => {
    showAnswer(output, text, prediction);
    target.replaceChildren(...entries.map((entry) => el('li', {}, `${entry.item} (${entry.score.toFixed(2)}) `, el('button', { type: 'button', onclick: () => void similar(entry.item), 'aria-label': `items like ${entry.item}` }, 'similar'))));
    hint.textContent = meaning;
    showPart(hint);
  };
  const resultsHint = el('p', { className: 'hint' });
  const similarHint = el('p', { className: 'hint' });
  const recommend = async () => {
    clearAnswer(answer);
    if (liked.size === 0) {
      answer.textContent = 'Tick a few items to get recommendations.';
      return;
    }
    try {
      const prediction = await predictor.predict({ liked: [...liked], count: 10 });
      if (prediction.kind === 'items') show(answer, results, resultsHint, prediction.items, `Because you like ${[...liked].join(', ')}:`, prediction, 'The number is the match: how well the item fits the taste of what you ticked, plus how much people liked it overall; higher is better.');
    } catch (error) {
      showError(answer, error);
    }
  };
  const similarList = el('ol', { 'aria-label': 'similar items' });
  const similar = async (item: string) => {
    const prediction = await predictor.predict({ similarTo: item, count: 5 });
    if (prediction.kind === 'items') show(similarAnswer, similarList, similarHint, prediction.items, `Items like ${item}:`, prediction, `The number is the likeness, from −1 to 1: 1 when people rate the item as they rate ${item}.`);
  };

  linkResult(answer, results, resultsHint);
  linkResult(similarAnswer, similarList, similarHint);
  // a sample: someone new who likes three titles of one genre
  const pick = async (sample: Sample) => {
    liked.clear();
    for (const item of sample.liked ?? []) liked.add(item);
    filter.value = '';
    render();
    clearAnswer(similarAnswer);
    await recommend();
  };

  const shown = 80;
  // by title, numbers in order ("Silent Witness 2" before "Silent Witness 10")
  const sorted = [...items].sort(new Intl.Collator('en', { numeric: true }).compare);
  const render = () => {
    const query = filter.value.trim().toLowerCase();
    // the items ticked first (a sample's may be far down the list), then the others
    const found = sorted.filter((item) => item.toLowerCase().includes(query));
    const matching = [...found.filter((item) => liked.has(item)), ...found.filter((item) => !liked.has(item)).slice(0, shown)];
    list.replaceChildren(
      el('legend', {}, `Items you like (${items.length} in all${found.length > matching.length ? `, ${matching.length} shown: filter to find others` : ''})`),
      ...matching.map((item) =>
        el('label', {}, el('input', { type: 'checkbox', value: item, checked: liked.has(item), onchange: (event: Event) => {
          if ((event.target as HTMLInputElement).checked) liked.add(item);
          else liked.delete(item);
          void recommend();
        } }), ` ${item}`),
      ),
    );
  };
  filter.addEventListener('input', render);
  render();

  panel.append(
    el('p', {}, `Collaborative filtering trained by \`kindling train collab\` on ${users.length} users' generated ratings of ${items.length} generated titles (users favour some genres; the model is not told which title is which genre). Someone new is described by what they like: their taste is the mean of those items' factors.`),
    aboutLine(about),
    sampleButtons('recommend-samples', about.samples, (sample) => `a ${sample.truth ?? 'new'} fan`, pick, answer),
    el('div', { className: 'row' }, el('div', {}, filter, list), el('div', { className: 'result' }, answer, results, resultsHint, similarAnswer, similarList, similarHint)),
  );
  await recommend();
}
