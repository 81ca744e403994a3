/**
 * A bundle of one of Kindling's kinds, read where that kind was never registered (this file imports no modality
 * package): refused with a message that says which package to install and what to register.
 */
import { BundleError, registeredTaskKinds, TASK_PACKAGES } from '@kindling/deploy';
import { loadBundle, loadPredictor } from '@kindling/deploy/node';
import { expect, it } from 'vitest';

const fixture = (kind: string) => new URL(`./fixtures/format-1/${kind}.kindling`, import.meta.url).pathname;

it('names the package and the definition to register for a kind that is not registered', async () => {
  expect(registeredTaskKinds()).toEqual([]);
  for (const [kind, home] of [['image', '@kindling/image/predict'], ['segmentation', '@kindling/image/predict'], ['sound', '@kindling/audio/predict'], ['pointer', '@kindling/pointer/predict'], ['tabular', '@kindling/tabular'], ['collab', '@kindling/tabular']] as const) {
    expect(TASK_PACKAGES[kind]!.entry).toBe(home);
    const loading = loadPredictor(fixture(kind));
    await expect(loading).rejects.toThrow(BundleError);
    await expect(loadPredictor(fixture(kind))).rejects.toThrow(`its task kind '${kind}' is not registered: install ${TASK_PACKAGES[kind]!.package} and call registerTask(${TASK_PACKAGES[kind]!.definition}), with ${TASK_PACKAGES[kind]!.definition} imported from ${home}${kind === 'sound' || kind === 'collab' ? '' : ` (in Node, from ${home.replace(/\/predict$/, '')}/node)`}`);
    await expect(loadBundle(fixture(kind))).rejects.toThrow(/is not registered: install @kindling\//);
  }
});

it('the entries its message names export the definitions it names, of that kind', async () => {
  for (const [kind, home] of Object.entries(TASK_PACKAGES)) {
    for (const entry of [home.entry, home.nodeEntry].filter((each) => each !== undefined)) {
      const module = (await import(entry)) as Record<string, { kind?: string } | undefined>;
      expect(module[home.definition]?.kind, `${home.definition} from ${entry}`).toBe(kind);
    }
  }
  expect(registeredTaskKinds()).toEqual([]); // importing registers nothing
});
