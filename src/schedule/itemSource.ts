/**
 * Where a parsed job or task came from: its exact text (so an unmodified item prints byte-identically),
 * its lines (so set-level validation can name them), and a fingerprint of what it meant when parsed
 * (its canonical print), so a later change to the object is noticed and it prints canonically instead.
 *
 * Kept beside the objects in a WeakMap rather than on them, so jobs stay plain data for --json and
 * a copy made with `{ ...job }` is, correctly, a new item without original text.
 */
export interface ItemSource {
  readonly text: string;
  /** 1-based line of `Job.Begin` / `Task.Begin`. */
  readonly line: number;
  /** 1-based line of each key (a `.Begin:` line for multi-line values). */
  readonly keyLines: ReadonlyMap<string, number>;
  readonly fingerprint: string;
}

const sources = new WeakMap<object, ItemSource>();

export function attachSource(item: object, source: ItemSource): void {
  sources.set(item, source);
}

export function sourceOf(item: object): ItemSource | undefined {
  return sources.get(item);
}

/** The line of `key` in the item's text, else of the item's first line, else 0 (not from text). */
export function lineOf(item: object, key?: string): number {
  const source = sources.get(item);
  if (!source) return 0;
  return (key === undefined ? undefined : source.keyLines.get(key)) ?? source.line;
}
