import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fastestTestBackend } from '@kindling/backend/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { predict, useBackend } from './fixtures/test-support';
import { trainCollab, type TrainCollabOptions } from './train-collab';
import { generateInteractions, generateRatings } from '@kindling/tabular';

const options = (out: string): TrainCollabOptions => ({
  user: 'user',
  item: 'item',
  rating: 'rating',
  model: 'dot',
  factors: 8,
  epochs: 4,
  lr: 2e-2,
  wd: 0.01,
  batchSize: 256,
  validPct: 0.1,
  seed: 1,
  out,
});

beforeAll(async () => {
  await useBackend(fastestTestBackend());
});

describe('kindling train collab', () => {
  it('trains on a headerless TSV of ratings and writes the model with its id maps', async () => {
    const root = mkdtempSync(join(tmpdir(), 'kindling-collab-cli-'));
    const { rows, noiseVariance } = generateRatings({ users: 150, items: 120, ratings: 12_000, seed: 5 });
    writeFileSync(join(root, 'u.data'), rows.map((row) => `${row.user}\t${row.item}\t${row.rating}\t0`).join('\n'));
    const result = await trainCollab(join(root, 'u.data'), { ...options(join(root, 'out')), columns: 'user,item,rating,timestamp' });
    expect(result.validMse).toBeLessThan(noiseVariance * 2);
    const manifest = JSON.parse(readFileSync(join(root, 'out', 'kindling.json'), 'utf8'));
    expect(manifest.task.users).toHaveLength(150);
    expect(existsSync(join(root, 'out', 'model.json'))).toBe(true);
    const [user, items] = [manifest.task.users[0], manifest.task.items];
    const [score, cold] = await predict(join(root, 'out'), [JSON.stringify({ user, item: items[1] }), JSON.stringify({ liked: items.slice(0, 2), count: 5 })]);
    expect(score!.prediction).toMatchObject({ kind: 'score', user, item: items[1] });
    expect((score!.prediction as { score: number }).score).toBeGreaterThan(0);
    expect((cold!.prediction as { items: unknown[] }).items).toHaveLength(5);
  });

  it('trains on implicit picks (no rating column)', async () => {
    const root = mkdtempSync(join(tmpdir(), 'kindling-collab-implicit-'));
    writeFileSync(join(root, 'picks.csv'), ['user,item', ...generateInteractions({ users: 200, items: 120, perUser: 20, seed: 2 }).rows.map((row) => `${row.user},${row.item}`)].join('\n'));
    const result = await trainCollab(join(root, 'picks.csv'), { ...options(join(root, 'out')), implicit: true });
    // targets are 0/1, a third of them 1: always guessing 1/3 scores 0.222; tastes are learnable
    expect(result.validMse).toBeLessThan(0.17);
    expect(JSON.parse(readFileSync(join(root, 'out', 'kindling.json'), 'utf8')).task.implicit).toBe(true);
  });

  it('names a missing column', async () => {
    const root = mkdtempSync(join(tmpdir(), 'kindling-collab-bad-'));
    writeFileSync(join(root, 'ratings.csv'), 'customer,film,stars\na,b,3\n');
    await expect(trainCollab(join(root, 'ratings.csv'), options(join(root, 'out')))).rejects.toThrow(`${join(root, 'ratings.csv')}: no column 'user' (columns: customer, film, stars)`);
  });
});
