import { diffIndices } from 'node-diff3';

/** Lines of context around each change, as `diff -u`. */
const CONTEXT = 3;

/**
 * A unified diff (`diff -u`'s format) of two texts, empty when they are equal. node-diff3 finds the
 * changed regions (its LCS); it has no unified formatter, so the hunks are grouped and written here.
 */
export function unifiedDiff(oldText: string, newText: string, oldLabel: string, newLabel: string): string {
  const a = splitLines(oldText);
  const b = splitLines(newText);
  const changes = diffIndices(a.lines, b.lines);
  if (changes.length === 0 && a.noNewline === b.noNewline) return '';
  const out = [`--- ${oldLabel}`, `+++ ${newLabel}`];
  let i = 0;
  while (i < changes.length) {
    // Changes closer than twice the context share a hunk.
    let j = i;
    while (j + 1 < changes.length && changes[j + 1]!.buffer1[0] - (changes[j]!.buffer1[0] + changes[j]!.buffer1[1]) <= 2 * CONTEXT) j++;
    const first = changes[i]!;
    const last = changes[j]!;
    const aStart = Math.max(0, first.buffer1[0] - CONTEXT);
    const aEnd = Math.min(a.lines.length, last.buffer1[0] + last.buffer1[1] + CONTEXT);
    const bStart = Math.max(0, first.buffer2[0] - CONTEXT);
    const bEnd = Math.min(b.lines.length, last.buffer2[0] + last.buffer2[1] + CONTEXT);
    out.push(`@@ -${range(aStart, aEnd - aStart)} +${range(bStart, bEnd - bStart)} @@`);
    let at = aStart;
    for (let k = i; k <= j; k++) {
      const c = changes[k]!;
      for (; at < c.buffer1[0]; at++) out.push(line(' ', a, at));
      for (let n = 0; n < c.buffer1[1]; n++) out.push(line('-', a, c.buffer1[0] + n));
      for (let n = 0; n < c.buffer2[1]; n++) out.push(line('+', b, c.buffer2[0] + n));
      at = c.buffer1[0] + c.buffer1[1];
    }
    for (; at < aEnd; at++) out.push(line(' ', a, at));
    i = j + 1;
  }
  return out.join('\n') + '\n';
}

function splitLines(text: string): { lines: string[]; noNewline: boolean } {
  if (text === '') return { lines: [], noNewline: false };
  const noNewline = !text.endsWith('\n');
  const lines = (noNewline ? text : text.slice(0, -1)).split('\n');
  return { lines, noNewline };
}

function line(mark: string, t: { lines: string[]; noNewline: boolean }, n: number): string {
  const text = `${mark}${t.lines[n]}`;
  return t.noNewline && n === t.lines.length - 1 ? `${text}\n\\ No newline at end of file` : text;
}

function range(start: number, length: number): string {
  return length === 1 ? `${start + 1}` : `${length === 0 ? start : start + 1},${length}`;
}
