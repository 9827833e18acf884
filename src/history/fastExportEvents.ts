import { InvalidInputError } from '../core/errors.js';

/*
 * A streaming reader of git's fast-import format, as `git fast-export` writes it. Written here
 * because no parser of the format is published for Node (npm has none; the one package whose name
 * mentions it is an ESLint plugin), and because the import must consume the stream as it comes:
 * a history's blobs are gigabytes that no buffer may hold whole.
 *
 * Only what fast-export emits is read: `blob`, `commit` (with `M`, `D`, `R`, `C`, `deleteall`),
 * `tag`, `reset`, `feature`, `progress`, `checkpoint` and `done`; `data <count>` only (fast-export
 * never writes the delimited form). Anything else is refused with the line it met.
 */

export interface GitIdent {
  name: string;
  email: string;
  /** Milliseconds since the epoch. */
  time: number;
}

/** A change a commit makes relative to its first parent. */
export type FileChange =
  | { op: 'M'; mode: string; ref: string; path: string }
  | { op: 'D'; path: string }
  | { op: 'R' | 'C'; from: string; path: string }
  | { op: 'deleteall' };

export interface BlobEvent {
  type: 'blob';
  mark: string | undefined;
  data: Buffer;
}

export interface CommitEvent {
  type: 'commit';
  ref: string;
  mark: string | undefined;
  /** The commit's id in the exported repository (`--show-original-ids`). */
  originalOid: string | undefined;
  author: GitIdent | undefined;
  committer: GitIdent | undefined;
  message: Buffer;
  /** First parent: a mark (`:12`) or, for parents left out of the export, a commit id. */
  from: string | undefined;
  merges: string[];
  changes: FileChange[];
}

export type FastExportEvent =
  | BlobEvent
  | CommitEvent
  | { type: 'tag'; name: string; from: string | undefined }
  | { type: 'reset'; ref: string; from: string | undefined }
  | { type: 'done' };

/** Reads lines and counted byte runs from a stream of chunks, one line of look-back. */
class ByteReader {
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;
  private pushedBack: string | undefined;
  private ended = false;

  constructor(private readonly chunks: AsyncIterator<Buffer>) {}

  private async more(): Promise<boolean> {
    if (this.ended) return false;
    const next = await this.chunks.next();
    if (next.done) {
      this.ended = true;
      return false;
    }
    const chunk = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value);
    this.buf = this.pos < this.buf.length ? Buffer.concat([this.buf.subarray(this.pos), chunk]) : chunk;
    this.pos = 0;
    return true;
  }

  /** The next line without its LF, or undefined at the end of the stream. */
  async line(): Promise<string | undefined> {
    if (this.pushedBack !== undefined) {
      const l = this.pushedBack;
      this.pushedBack = undefined;
      return l;
    }
    for (;;) {
      const nl = this.buf.indexOf(10, this.pos);
      if (nl >= 0) {
        const text = this.buf.toString('utf8', this.pos, nl);
        this.pos = nl + 1;
        return text;
      }
      if (!(await this.more())) {
        if (this.pos >= this.buf.length) return undefined;
        const text = this.buf.toString('utf8', this.pos);
        this.pos = this.buf.length;
        return text;
      }
    }
  }

  unread(line: string): void {
    this.pushedBack = line;
  }

  /** Exactly `count` bytes (a copy the caller may keep). */
  async bytes(count: number): Promise<Buffer> {
    const have = this.buf.length - this.pos;
    if (have >= count) {
      const out = Buffer.from(this.buf.subarray(this.pos, this.pos + count));
      this.pos += count;
      return out;
    }
    // Gathered once: a large blob arrives in many chunks, concatenated a single time.
    const parts: Buffer[] = [this.buf.subarray(this.pos)];
    let got = have;
    this.buf = Buffer.alloc(0);
    this.pos = 0;
    while (got < count) {
      if (!(await this.more())) throw truncated(`a data block of ${count} bytes ends after ${got}`);
      const take = Math.min(count - got, this.buf.length);
      parts.push(this.buf.subarray(0, take));
      got += take;
      this.pos = take;
    }
    return Buffer.concat(parts, count);
  }
}

function truncated(why: string): InvalidInputError {
  return new InvalidInputError(`the fast-export stream is cut short: ${why}`, { hint: 'see git fast-export above for why it stopped' });
}

function malformed(line: string): InvalidInputError {
  return new InvalidInputError(`unexpected line in the fast-export stream: ${JSON.stringify(line.slice(0, 200))}`);
}

const COMMANDS = /^(blob|commit |tag |reset |feature |progress |checkpoint|done)/;

/** `Name <email> 1700000000 +0100` as author and committer lines give it. */
export function parseIdent(text: string): GitIdent | undefined {
  const m = /^(.*?) ?<([^>]*)> (\d+) [+-]\d{4}$/.exec(text);
  return m ? { name: m[1]!, email: m[2]!, time: Number(m[3]) * 1000 } : undefined;
}

const ESCAPES: Record<string, number> = { a: 7, b: 8, t: 9, n: 10, v: 11, f: 12, r: 13, '"': 34, '\\': 92 };

/**
 * A path as fast-export writes it: as it is, or C-quoted (`"a\"b"`, `\303\251` for non-ASCII bytes).
 * Returns the path and the rest of the line after it (and the space before that).
 */
export function readPath(text: string, rest: 'line' | 'word'): { path: string; rest: string } {
  if (!text.startsWith('"')) {
    if (rest === 'line') return { path: text, rest: '' };
    const space = text.indexOf(' ');
    if (space < 0) throw malformed(text);
    return { path: text.slice(0, space), rest: text.slice(space + 1) };
  }
  const bytes: number[] = [];
  let i = 1;
  for (; i < text.length && text[i] !== '"'; i++) {
    const c = text[i]!;
    if (c !== '\\') {
      for (const b of Buffer.from(c, 'utf8')) bytes.push(b);
      continue;
    }
    const e = text[++i]!;
    if (/[0-7]/.test(e)) {
      bytes.push(parseInt(text.slice(i, i + 3), 8));
      i += 2;
    } else if (ESCAPES[e] !== undefined) {
      bytes.push(ESCAPES[e]);
    } else {
      throw malformed(text);
    }
  }
  if (text[i] !== '"') throw malformed(text);
  return { path: Buffer.from(bytes).toString('utf8'), rest: text.slice(i + 2) };
}

function parseChange(line: string): FileChange | undefined {
  if (line === 'deleteall') return { op: 'deleteall' };
  if (line.startsWith('M ')) {
    const m = /^M (\d+) (\S+) (.*)$/.exec(line);
    if (!m) throw malformed(line);
    return { op: 'M', mode: m[1]!, ref: m[2]!, path: readPath(m[3]!, 'line').path };
  }
  if (line.startsWith('D ')) return { op: 'D', path: readPath(line.slice(2), 'line').path };
  if (line.startsWith('R ') || line.startsWith('C ')) {
    const first = readPath(line.slice(2), 'word');
    return { op: line[0] as 'R' | 'C', from: first.path, path: readPath(first.rest, 'line').path };
  }
  return undefined;
}

async function data(reader: ByteReader): Promise<Buffer> {
  const line = await reader.line();
  if (line === undefined) throw truncated('a data command is missing');
  const m = /^data (\d+)$/.exec(line);
  if (!m) throw malformed(line);
  return reader.bytes(Number(m[1]));
}

/** After a data block: one LF may follow, or the next command. */
async function optionalLf(reader: ByteReader): Promise<void> {
  const line = await reader.line();
  if (line !== undefined && line !== '') reader.unread(line);
}

/**
 * The events of a fast-export stream, as the chunks arrive. Ends after `done` when the stream
 * announced `feature done` (then a stream cut short is an error), else at the end of the input.
 */
export async function* fastExportEvents(chunks: AsyncIterable<Buffer>): AsyncGenerator<FastExportEvent> {
  const reader = new ByteReader(chunks[Symbol.asyncIterator]());
  let doneExpected = false;
  for (;;) {
    const line = await reader.line();
    if (line === undefined) {
      if (doneExpected) throw truncated('it ends without "done"');
      return;
    }
    if (line === '') continue;
    if (line === 'done') {
      yield { type: 'done' };
      return;
    }
    if (line === 'feature done') {
      doneExpected = true;
      continue;
    }
    if (line.startsWith('feature ') || line.startsWith('progress ') || line === 'checkpoint') continue;
    if (line === 'blob') {
      let mark: string | undefined;
      for (;;) {
        const l = await reader.line();
        if (l === undefined) throw truncated('a blob has no data');
        if (l.startsWith('mark ')) mark = l.slice(5);
        else if (l.startsWith('original-oid ')) continue;
        else {
          reader.unread(l);
          break;
        }
      }
      const bytes = await data(reader);
      await optionalLf(reader);
      yield { type: 'blob', mark, data: bytes };
      continue;
    }
    if (line.startsWith('commit ')) {
      yield await readCommit(reader, line.slice(7));
      continue;
    }
    if (line.startsWith('tag ')) {
      let from: string | undefined;
      for (;;) {
        const l = await reader.line();
        if (l === undefined) throw truncated('a tag has no data');
        if (l.startsWith('from ')) from = l.slice(5);
        else if (l.startsWith('mark ') || l.startsWith('original-oid ') || l.startsWith('tagger ')) continue;
        else {
          reader.unread(l);
          break;
        }
      }
      await data(reader);
      await optionalLf(reader);
      yield { type: 'tag', name: line.slice(4), from };
      continue;
    }
    if (line.startsWith('reset ')) {
      let from: string | undefined;
      const l = await reader.line();
      if (l !== undefined && l.startsWith('from ')) from = l.slice(5);
      else if (l !== undefined) reader.unread(l);
      yield { type: 'reset', ref: line.slice(6), from };
      continue;
    }
    throw malformed(line);
  }
}

async function readCommit(reader: ByteReader, ref: string): Promise<CommitEvent> {
  const commit: CommitEvent = {
    type: 'commit',
    ref,
    mark: undefined,
    originalOid: undefined,
    author: undefined,
    committer: undefined,
    message: Buffer.alloc(0),
    from: undefined,
    merges: [],
    changes: [],
  };
  for (;;) {
    const l = await reader.line();
    if (l === undefined) throw truncated(`commit ${ref} has no message`);
    if (l.startsWith('mark ')) commit.mark = l.slice(5);
    else if (l.startsWith('original-oid ')) commit.originalOid = l.slice(13);
    else if (l.startsWith('author ')) commit.author = parseIdent(l.slice(7));
    else if (l.startsWith('committer ')) commit.committer = parseIdent(l.slice(10));
    else if (l.startsWith('encoding ') || l.startsWith('gpgsig ')) continue;
    else {
      reader.unread(l);
      break;
    }
  }
  commit.message = await data(reader);
  let first = true;
  for (;;) {
    const l = await reader.line();
    if (l === undefined) return commit;
    if (l === '') {
      // The LF a data block may end with, or the blank line that ends the commit.
      if (first) {
        first = false;
        const next = await reader.line();
        if (next === undefined) return commit;
        if (next === '' || COMMANDS.test(next)) {
          if (next !== '') reader.unread(next);
          return commit;
        }
        reader.unread(next);
        continue;
      }
      return commit;
    }
    first = false;
    if (l.startsWith('from ')) commit.from = l.slice(5);
    else if (l.startsWith('merge ')) commit.merges.push(l.slice(6));
    else if (COMMANDS.test(l)) {
      reader.unread(l);
      return commit;
    } else {
      const change = parseChange(l);
      if (!change) throw malformed(l);
      commit.changes.push(change);
    }
  }
}
