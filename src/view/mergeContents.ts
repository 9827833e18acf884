import { isUtf8 } from 'node:buffer';
import { diff3Merge } from 'node-diff3';
import { MergeBinaryError } from './mergeBinaryError.js';

/** Which contributor wins where both changed the same lines (or, for binary files, the whole file). */
export type MergeChoice = 'ours' | 'theirs';

/** One side of a merge: its bytes and the name conflict blocks give it. */
export interface Contributor {
  label: string;
  bytes: Buffer;
}

/** Where a conflict block sits in the merged file: 1-based line numbers of its first and last marker. */
export interface ConflictBlock {
  start: number;
  end: number;
}

export interface MergedContents {
  bytes: Buffer;
  /** Conflict blocks written into `bytes`, in order; empty when the merge was automatic. */
  conflicts: ConflictBlock[];
  /** How the result came: `none` (theirs brought nothing), `trivial` (ours had not changed: theirs taken whole), `merged`, `chosen` (a binary file's contributor). */
  how: 'none' | 'trivial' | 'merged' | 'chosen';
}

/** Text is what diff3 can merge by line: valid UTF-8 without NUL bytes. */
export function isText(bytes: Buffer): boolean {
  return !bytes.includes(0) && isUtf8(bytes);
}

/** Lines with their terminators, so joining them gives the text back byte for byte. */
function lines(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

/**
 * Three-way merge of `theirs` into `ours` against their common ancestor `base`. Changes on one side
 * only are taken; the same change on both sides is taken once; different changes to the same lines
 * are a conflict, written as a block (`<<<<<<< ours`, `=======`, `>>>>>>> theirs`) unless `choose`
 * names the side to take. A side equal to the base makes the merge trivial, binary files included;
 * otherwise a binary file needs `choose`, or MergeBinaryError is thrown naming `file`.
 */
export function mergeContents(
  file: string,
  base: Buffer,
  ours: Contributor,
  theirs: Contributor,
  options: { choose?: MergeChoice } = {},
): MergedContents {
  if (theirs.bytes.equals(base) || theirs.bytes.equals(ours.bytes)) return { bytes: ours.bytes, conflicts: [], how: 'none' };
  if (ours.bytes.equals(base)) return { bytes: theirs.bytes, conflicts: [], how: 'trivial' };
  if (!isText(base) || !isText(ours.bytes) || !isText(theirs.bytes)) {
    if (!options.choose) throw new MergeBinaryError(file);
    return { bytes: options.choose === 'ours' ? ours.bytes : theirs.bytes, conflicts: [], how: 'chosen' };
  }
  const regions = diff3Merge(lines(ours.bytes.toString('utf8')), lines(base.toString('utf8')), lines(theirs.bytes.toString('utf8')), {
    excludeFalseConflicts: true,
  });
  const out: string[] = [];
  const conflicts: ConflictBlock[] = [];
  // A side's last line may lack its newline; a marker after it must still start a line.
  const block = (side: string[]) => side.map((l, i) => (i === side.length - 1 && !l.endsWith('\n') ? `${l}\n` : l));
  for (const region of regions) {
    if (region.ok) out.push(...region.ok);
    else if (region.conflict && options.choose) out.push(...(options.choose === 'ours' ? region.conflict.a : region.conflict.b));
    else if (region.conflict) {
      const start = out.length + 1;
      out.push(
        `<<<<<<< ${ours.label}\n`,
        ...block(region.conflict.a),
        '=======\n',
        ...block(region.conflict.b),
        `>>>>>>> ${theirs.label}\n`,
      );
      conflicts.push({ start, end: out.length });
    }
  }
  return { bytes: Buffer.from(out.join(''), 'utf8'), conflicts, how: 'merged' };
}

/** The conflict blocks mergeContents wrote into `bytes`, found again by their marker lines. */
export function conflictBlocksIn(bytes: Buffer): ConflictBlock[] {
  const blocks: ConflictBlock[] = [];
  let start: number | undefined;
  lines(bytes.toString('utf8')).forEach((line, i) => {
    if (line.startsWith('<<<<<<< ')) start = i + 1;
    else if (line.startsWith('>>>>>>> ') && start !== undefined) {
      blocks.push({ start, end: i + 1 });
      start = undefined;
    }
  });
  return blocks;
}
