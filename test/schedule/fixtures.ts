import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'schedule');

export function fixture(name: string): string {
  return fs.readFileSync(path.join(dir, name), 'utf8');
}

/** Every `Job.Begin … Job.End` block of the seed text, exactly as written there. */
export function seedBlocks(): string[] {
  return [...fixture('seed-000.txt').matchAll(/^Job\.Begin$[\s\S]*?^Job\.End$/gm)].map((m) => m[0]);
}

/** 1-based line of the first line equal to `text` (trimmed) at or after line `from`. */
export function lineNumberOf(source: string, text: string, from = 1): number {
  const lines = source.split('\n');
  for (let i = from - 1; i < lines.length; i++) if (lines[i]!.trim() === text) return i + 1;
  throw new Error(`no line ${text}`);
}
