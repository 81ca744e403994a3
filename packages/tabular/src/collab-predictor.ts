import { InputError, isRecord, jsonValueInWords, Predictor, type Bundle } from '@kindling/deploy';
import { Recommender } from './collab-model';
import type * as tf from '@tensorflow/tfjs';

/** Recommendations: the user and item ids in the model's index order, the rating range, the model kind. */
export interface CollabTask {
  kind: 'collab';
  model: 'dot' | 'neural';
  users: readonly string[];
  items: readonly string[];
  yRange: [number, number];
  /** Trained on clicks/likes only (the score is a probability of liking). */
  implicit: boolean;
}

/**
 * What to ask a recommender: the score of a (user, item) pair, a known user's top items, a new user's
 * top items from a few liked ones (cold start), or the items most like one item.
 */
export type CollabQuery =
  | { user: string; item: string }
  | { user: string; count?: number; exclude?: string[] }
  | { liked: string[]; count?: number }
  | { similarTo: string; count?: number };

export type CollabAnswer = { kind: 'score'; user: string; item: string; score: number } | { kind: 'items'; items: Array<{ item: string; score: number }> };

/** Recommendations from a collaborative-filtering bundle; pair scores in one model call per batch. */
export class CollabPredictor extends Predictor<CollabQuery, CollabAnswer, CollabQuery, CollabTask> {
  readonly kind = 'collab';
  readonly recommender: Recommender;
  private readonly users: Set<string>;
  private readonly items: Set<string>;
  private tablesPromise?: Promise<Recommender>;

  constructor(bundle: Bundle, model: tf.LayersModel) {
    super(bundle, model);
    const task = bundle.manifest.task as CollabTask;
    this.recommender = new Recommender(model, { users: task.users, items: task.items });
    this.users = new Set(task.users);
    this.items = new Set(task.items);
  }

  private get tablesRead(): Promise<Recommender> {
    return (this.tablesPromise ??= this.recommender.ready());
  }

  private user(id: unknown, field = 'user'): string {
    const key = typeof id === 'number' ? String(id) : id;
    if (typeof key !== 'string') throw new InputError(`must be a user id (string), not ${jsonValueInWords(id)}`, field);
    if (!this.users.has(key)) throw new InputError(`unknown user '${key}': the model has never seen them; ask with { "liked": [items…] } instead`, field);
    return key;
  }

  private item(id: unknown, field = 'item'): string {
    const key = typeof id === 'number' ? String(id) : id;
    if (typeof key !== 'string') throw new InputError(`must be an item id (string), not ${jsonValueInWords(id)}`, field);
    if (!this.items.has(key)) throw new InputError(`unknown item '${key}': it was not in the training ratings`, field);
    return key;
  }

  private count(value: unknown): number {
    if (value === undefined) return 10;
    if (!(Number.isInteger(value) && (value as number) > 0 && (value as number) <= 1000)) throw new InputError(`must be a whole number from 1 to 1000, not ${JSON.stringify(value)}`, 'count');
    return value as number;
  }

  async prepare(query: CollabQuery): Promise<CollabQuery> {
    if (!isRecord(query)) throw new InputError(`expected { user, item }, { user }, { liked: [...] } or { similarTo }, got ${jsonValueInWords(query)}`, 'query');
    if ('liked' in query) {
      if (!Array.isArray(query.liked) || query.liked.length === 0) throw new InputError('must be a non-empty list of item ids', 'liked');
      if (this.task.model !== 'dot') throw new InputError('cold-start recommendations need the dot-product model (train with --model dot)', 'liked');
      return { liked: query.liked.map((id, index) => this.item(id, `liked[${index}]`)), count: this.count(query.count) };
    }
    if ('similarTo' in query) return { similarTo: this.item(query.similarTo, 'similarTo'), count: this.count(query.count) };
    if ('item' in query) return { user: this.user(query.user), item: this.item(query.item) };
    if ('user' in query) {
      const exclude = (query as { exclude?: unknown }).exclude;
      if (exclude !== undefined && !(Array.isArray(exclude) && exclude.every((id) => typeof id === 'string'))) throw new InputError('must be a list of item ids', 'exclude');
      return { user: this.user(query.user), count: this.count((query as { count?: unknown }).count), exclude: exclude as string[] | undefined };
    }
    throw new InputError(`expected { user, item }, { user }, { liked: [...] } or { similarTo }, got ${jsonValueInWords(query)}`, 'query');
  }

  async run(prepared: readonly CollabQuery[]): Promise<CollabAnswer[]> {
    const pairs = prepared.flatMap((query) => ('item' in query ? [[query.user, query.item] as [string, string]] : []));
    const scores = pairs.length > 0 ? await this.recommender.predictAsync(pairs) : [];
    let next = 0;
    // the factor tables are read once, asynchronously (never a synchronous GPU read: see Recommender.ready)
    if (prepared.some((query) => 'liked' in query || 'similarTo' in query)) await this.tablesRead;
    const answers: CollabAnswer[] = [];
    for (const query of prepared) {
      if ('item' in query) answers.push({ kind: 'score', user: query.user, item: query.item, score: scores[next++]! });
      else if ('liked' in query) answers.push({ kind: 'items', items: this.recommender.coldStart(query.liked, query.count) });
      else if ('similarTo' in query) answers.push({ kind: 'items', items: this.recommender.similarItems(query.similarTo, query.count) });
      else answers.push({ kind: 'items', items: await this.recommender.recommendAsync(query.user, query.count, query.exclude ?? []) });
    }
    return answers;
  }

  inputFromJson(value: unknown): CollabQuery {
    return value as CollabQuery;
  }

  describeInput(): string {
    return `{ "user", "item" } for a score, { "user", "count" } for a known user's top items, { "liked": [items…] } for a new user${this.task.model === 'dot' ? '' : ' (dot-product models only)'}, { "similarTo": item } for similar items; ${this.task.users.length} users, ${this.task.items.length} items`;
  }
}
