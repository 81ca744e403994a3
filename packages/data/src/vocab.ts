import { DataError } from './errors';

/**
 * A category vocabulary: labels ⇄ indices, sorted so the same labels always give the same indices.
 * Stored with a trained model so predictions decode back to labels.
 */
export class Vocab {
  private readonly index: Map<string, number>;

  constructor(readonly labels: readonly string[]) {
    this.index = new Map(labels.map((label, i) => [label, i]));
    if (this.index.size !== labels.length) throw new Error('Vocab: labels must be unique');
  }

  /** The sorted distinct labels seen. */
  static fromLabels(labels: Iterable<string>): Vocab {
    return new Vocab([...new Set(labels)].sort((a, b) => a.localeCompare(b, 'en')));
  }

  get size(): number {
    return this.labels.length;
  }

  encode(label: string, where: { file?: string; row?: number } = {}): number {
    const value = this.index.get(label);
    if (value === undefined) throw new DataError(`unknown label '${label}' (known: ${this.labels.join(', ')})`, where);
    return value;
  }

  decode(index: number): string {
    const label = this.labels[index];
    if (label === undefined) throw new RangeError(`Vocab: no label at index ${index} (size ${this.size})`);
    return label;
  }

  toJSON(): { labels: string[] } {
    return { labels: [...this.labels] };
  }

  static fromJSON(json: { labels: string[] }): Vocab {
    return new Vocab(json.labels);
  }
}
