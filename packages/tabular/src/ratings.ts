import * as tf from '@tensorflow/tfjs';
import { DataError, Random, Vocab } from '@kindling/data';

export interface RatingsColumns {
  user: string;
  item: string;
  /** Omit for implicit feedback: every (user, item) row counts as a 1. */
  rating?: string;
}

export interface PrepareRatingsOptions extends RatingsColumns {
  /** Ratings outside [low, high] are an error naming the row. */
  range?: [number, number];
  /** Several ratings of one item by one user: average them (default), keep the last, or stop. */
  duplicates?: 'mean' | 'last' | 'error';
  source?: string;
}

/** Ratings as indices and values, with the id maps to turn indices back into ids. */
export interface Ratings {
  users: Vocab;
  items: Vocab;
  user: Int32Array;
  item: Int32Array;
  rating: Float32Array;
  /** How many duplicate (user, item) rows were merged. */
  mergedDuplicates: number;
}

/**
 * Turns rows of (user, item, rating) into index arrays with id maps. Ids of any kind become indices;
 * bad rows are DataErrors that name the row and field.
 */
export function prepareRatings(rows: ReadonlyArray<Record<string, string>>, options: PrepareRatingsOptions): Ratings {
  const source = options.source ?? 'ratings';
  if (rows.length === 0) throw new DataError('there are no ratings', { file: source });
  const columns = [options.user, options.item, ...(options.rating ? [options.rating] : [])];
  for (const column of columns) {
    if (!(column in rows[0]!)) throw new DataError(`no column '${column}' (columns: ${Object.keys(rows[0]!).join(', ')})`, { file: source });
  }
  const merged = new Map<string, { user: string; item: string; sum: number; count: number }>();
  let mergedDuplicates = 0;
  rows.forEach((row, index) => {
    const where = { file: source, row: index + 2 };
    const user = row[options.user]!.trim();
    const item = row[options.item]!.trim();
    if (user === '') throw new DataError('the user id is empty', { ...where, field: options.user });
    if (item === '') throw new DataError('the item id is empty', { ...where, field: options.item });
    let value = 1;
    if (options.rating) {
      const text = row[options.rating]!.trim();
      value = Number(text);
      if (text === '' || !Number.isFinite(value)) throw new DataError(`rating '${text}' is not a number`, { ...where, field: options.rating });
      if (options.range && (value < options.range[0] || value > options.range[1])) {
        throw new DataError(`rating ${value} is outside the range ${options.range[0]}–${options.range[1]}`, { ...where, field: options.rating });
      }
    }
    const key = `${user}\u0000${item}`;
    const existing = merged.get(key);
    if (existing === undefined) {
      merged.set(key, { user, item, sum: value, count: 1 });
      return;
    }
    mergedDuplicates++;
    const policy = options.duplicates ?? 'mean';
    if (policy === 'error') throw new DataError(`user '${user}' rated item '${item}' more than once`, where);
    if (policy === 'last') Object.assign(existing, { sum: value, count: 1 });
    else Object.assign(existing, { sum: existing.sum + value, count: existing.count + 1 });
  });
  const entries = [...merged.values()];
  const users = Vocab.fromLabels(entries.map((entry) => entry.user));
  const items = Vocab.fromLabels(entries.map((entry) => entry.item));
  return {
    users,
    items,
    user: Int32Array.from(entries, (entry) => users.encode(entry.user)),
    item: Int32Array.from(entries, (entry) => items.encode(entry.item)),
    rating: Float32Array.from(entries, (entry) => entry.sum / entry.count),
    mergedDuplicates,
  };
}

export interface GeneratedRatings {
  rows: Array<Record<string, string>>;
  /** Every item's title (its id in `rows`), by item number: a title a person can read, with a word of its genre. */
  items: string[];
  /** The genre (taste group) of every item and the favourite genre of every user, as planted. */
  itemGenre: number[];
  userFavourite: number[];
  /** The variance of the noise added: the best mean squared error any model can reach. */
  noiseVariance: number;
}

/** Words for the generated items' titles, a pair of lists per genre (the first eight genres; later ones are numbered). */
const TITLE_WORDS: ReadonlyArray<readonly [readonly string[], readonly string[]]> = [
  [['Silent', 'Hidden', 'Midnight', 'Crimson', 'Locked', 'Last', 'Quiet', 'Broken'], ['Witness', 'Alibi', 'Key', 'Letter', 'Room', 'Clue', 'Verdict', 'Cipher']],
  [['Accidental', 'Lucky', 'Awkward', 'Happy', 'Wild', 'Borrowed', 'Big', 'Second'], ['Wedding', 'Holiday', 'Neighbours', 'Roommate', 'Plan', 'Weekend', 'Road Trip', 'Reunion']],
  [['Distant', 'Red', 'Frozen', 'Outer', 'Dark', 'Silver', 'Lost', 'Final'], ['Orbit', 'Planet', 'Station', 'Nebula', 'Signal', 'Frontier', 'Moon', 'Voyage']],
  [['Summer', 'Paper', 'Paris', 'Secret', 'Winter', 'Golden', 'Sweet', 'Endless'], ['Kiss', 'Letters', 'Promise', 'Hearts', 'Dance', 'Vows', 'Garden', 'Serenade']],
  [['Dusty', 'Lone', 'Iron', 'High', 'Copper', 'Rattlesnake', 'Long', 'Black'], ['Canyon', 'Rider', 'Trail', 'Saloon', 'Sheriff', 'Ranch', 'Creek', 'Outlaw']],
  [['Hollow', 'Cursed', 'Pale', 'Whispering', 'Rotten', 'Nameless', 'Cold', 'Shadow'], ['House', 'Woods', 'Doll', 'Cellar', 'Choir', 'Lake', 'Mask', 'Chapel']],
  [['Tiny', 'Brave', 'Magic', 'Flying', 'Clever', 'Little', 'Sleepy', 'Jolly'], ['Dragon', 'Robot', 'Fox', 'Kingdom', 'Balloon', 'Turtle', 'Island', 'Penguin']],
  [['Deep', 'Ancient', 'Unseen', 'Untamed', 'Urban', 'Arctic', 'Living', 'Vanishing'], ['Oceans', 'Empires', 'Forests', 'Cities', 'Rivers', 'Deserts', 'Machines', 'Skies']],
];

/**
 * The title of generated item `index` of `genre` (the k-th item of a genre gets the k-th pair of its words, then
 * sequels: "Silent Witness 2"), unique among the items; genres past the eighth are "Title <index>".
 */
function itemTitle(index: number, genre: number, genres: number): string {
  const words = TITLE_WORDS[genre];
  if (words === undefined) return `Title ${index}`;
  const [first, second] = words;
  const k = Math.floor(index / genres);
  const pairs = first.length * second.length;
  const sequel = Math.floor(k / pairs) + 1;
  return `${first[k % first.length]} ${second[Math.floor(k / first.length) % second.length]}${sequel > 1 ? ` ${sequel}` : ''}`;
}

/**
 * Ratings drawn from known tastes: items belong to genres, users like some genres more, plus user and
 * item biases and Gaussian noise. A model can at best reach the noise variance as its error.
 */
export function generateRatings(options: { users?: number; items?: number; ratings?: number; genres?: number; noise?: number; seed?: number } = {}): GeneratedRatings {
  const { users = 300, items = 200, ratings = 12_000, genres = 4, noise = 0.5, seed = 7 } = options;
  const random = new Random(seed);
  const gaussian = () => Math.sqrt(-2 * Math.log(1 - random.next())) * Math.cos(2 * Math.PI * random.next());
  const itemGenre = Array.from({ length: items }, (_, i) => i % genres);
  const titles = itemGenre.map((genre, i) => itemTitle(i, genre, genres));
  const itemBias = Array.from({ length: items }, () => gaussian() * 0.4);
  const userFavourite = Array.from({ length: users }, () => random.integer(genres));
  const userTaste = userFavourite.map((favourite) => Array.from({ length: genres }, (_, g) => (g === favourite ? 1.2 : -0.4) + gaussian() * 0.2));
  const userBias = Array.from({ length: users }, () => gaussian() * 0.3);
  const seen = new Set<number>();
  const rows: Array<Record<string, string>> = [];
  while (rows.length < Math.min(ratings, users * items)) {
    const u = random.integer(users);
    const i = random.integer(items);
    if (seen.has(u * items + i)) continue;
    seen.add(u * items + i);
    const value = 3 + userBias[u]! + itemBias[i]! + userTaste[u]![itemGenre[i]!]! + gaussian() * noise;
    rows.push({ user: `u${u}`, item: titles[i]!, rating: value.toFixed(4) });
  }
  return { rows, items: titles, itemGenre, userFavourite, noiseVariance: noise * noise };
}

/**
 * Implicit feedback: every observed (user, item) pair is a 1, and for each one `perPositive` items the
 * user never touched are drawn as 0s, so a model learns what each user picks over what they pass by.
 */
export function withNegativeSamples(ratings: Ratings, options: { perPositive?: number; seed?: number } = {}): { user: Int32Array; item: Int32Array; label: Float32Array } {
  const { perPositive = 1, seed = 0 } = options;
  const random = new Random(seed);
  const itemCount = ratings.items.size;
  const seen = new Set<number>();
  for (let r = 0; r < ratings.user.length; r++) seen.add(ratings.user[r]! * itemCount + ratings.item[r]!);
  const user: number[] = [];
  const item: number[] = [];
  const label: number[] = [];
  for (let r = 0; r < ratings.user.length; r++) {
    const u = ratings.user[r]!;
    user.push(u);
    item.push(ratings.item[r]!);
    label.push(1);
    for (let n = 0; n < perPositive; n++) {
      for (let attempt = 0; attempt < 20; attempt++) {
        const candidate = random.integer(itemCount);
        if (seen.has(u * itemCount + candidate)) continue;
        user.push(u);
        item.push(candidate);
        label.push(0);
        break;
      }
    }
  }
  return { user: Int32Array.from(user), item: Int32Array.from(item), label: Float32Array.from(label) };
}

/** Implicit interactions from planted tastes: each user picks mostly (`loyalty`) items of their favourite genre. */
export function generateInteractions(options: { users?: number; items?: number; perUser?: number; genres?: number; loyalty?: number; seed?: number } = {}): Omit<GeneratedRatings, 'noiseVariance'> {
  const { users = 200, items = 120, perUser = 20, genres = 4, loyalty = 0.8, seed = 7 } = options;
  const random = new Random(seed);
  const itemGenre = Array.from({ length: items }, (_, i) => i % genres);
  const titles = itemGenre.map((genre, i) => itemTitle(i, genre, genres));
  const userFavourite = Array.from({ length: users }, () => random.integer(genres));
  const rows: Array<Record<string, string>> = [];
  for (let u = 0; u < users; u++) {
    const picked = new Set<number>();
    while (picked.size < Math.min(perUser, items)) {
      const genre = random.next() < loyalty ? userFavourite[u]! : random.integer(genres);
      const candidates = itemGenre.flatMap((g, i) => (g === genre ? [i] : []));
      picked.add(candidates[random.integer(candidates.length)]!);
    }
    for (const i of picked) rows.push({ user: `u${u}`, item: titles[i]! });
  }
  return { rows, items: titles, itemGenre, userFavourite };
}

/** (user, item, target) examples as arrays: ratings, or picks with sampled non-picks. */
export interface RatingExamples {
  user: Int32Array;
  item: Int32Array;
  target: Float32Array;
}

/** Selected rows of examples as model inputs `[userIndex, itemIndex]` (each `[n, 1]` int32) and targets `[n, 1]`. */
export function ratingTensors(examples: RatingExamples, rows: readonly number[]): { inputs: [tf.Tensor2D, tf.Tensor2D]; targets: tf.Tensor2D } {
  return {
    inputs: [
      tf.tensor2d(Int32Array.from(rows, (r) => examples.user[r]!), [rows.length, 1], 'int32'),
      tf.tensor2d(Int32Array.from(rows, (r) => examples.item[r]!), [rows.length, 1], 'int32'),
    ],
    targets: tf.tensor2d(Float32Array.from(rows, (r) => examples.target[r]!), [rows.length, 1]),
  };
}
