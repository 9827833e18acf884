/**
 * The benchmark's history: a deterministic sequence of small text-file versions, generated once and
 * replayed into both msite and git, so both store exactly the same files, contents and order.
 */

/** mulberry32: tiny, fast and good enough to pick files and lines; seeded so every run is identical. */
export function createRng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface HistoryOptions {
  versions: number;
  files: number;
  dirs: number;
  seed: number;
}

export interface HistoryStep {
  /** Index into `History.paths`. */
  file: number;
  content: Buffer;
  /** Same check-in comment / commit message on both sides, so neither stores less text. */
  comment: string;
}

export interface History {
  dirs: string[];
  /** Element path of every file, `d07/f0345.txt`. */
  paths: string[];
  steps: HistoryStep[];
  /** Bytes of content over all steps, to show the data volume. */
  contentBytes: number;
}

// Words for code-like lines: realistic line lengths and some repetition, as in source files.
const WORDS = [
  'alpha',
  'beta',
  'gamma',
  'delta',
  'count',
  'total',
  'index',
  'value',
  'result',
  'buffer',
  'offset',
  'length',
  'name',
  'path',
  'node',
  'next',
  'prev',
  'item',
  'list',
  'map',
  'key',
  'entry',
  'state',
  'flag',
  'error',
  'config',
  'limit',
  'size',
  'start',
  'end',
  'mode',
  'level',
];
const CALLS = ['compute', 'update', 'check', 'lookup', 'append', 'resolve', 'parse', 'format', 'merge', 'apply'];

const MIN_BYTES = 100;
const MAX_BYTES = 400;

function pick<T>(rng: () => number, items: readonly T[]): T {
  return items[Math.floor(rng() * items.length)]!;
}

function makeLine(rng: () => number): string {
  const indent = '  '.repeat(1 + Math.floor(rng() * 2));
  const a = pick(rng, WORDS);
  const b = pick(rng, WORDS);
  const n = Math.floor(rng() * 1000);
  switch (Math.floor(rng() * 4)) {
    case 0:
      return `${indent}${a} = ${pick(rng, CALLS)}(${b}, ${n});`;
    case 1:
      return `${indent}if (${a} > ${n}) ${b} += ${a};`;
    case 2:
      return `${indent}const ${a}${n} = ${b}.${pick(rng, CALLS)}();`;
    default:
      return `${indent}// ${pick(rng, CALLS)} the ${a} before the ${b}`;
  }
}

function byteSize(lines: readonly string[]): number {
  // ASCII only, so string length is byte length; +1 per line for its newline.
  let n = 0;
  for (const l of lines) n += l.length + 1;
  return n;
}

function initialLines(rng: () => number, fileIndex: number): string[] {
  const lines = [`// file ${fileIndex}`, `function f${fileIndex}() {`];
  const target = MIN_BYTES + 40 + Math.floor(rng() * 160);
  while (byteSize(lines) + 2 < target) lines.push(makeLine(rng));
  lines.push('}');
  return lines;
}

/** Changes one to three lines in the body (not the header or the closing brace), staying within 100-400 bytes. */
function edit(rng: () => number, lines: string[]): void {
  const changes = 1 + Math.floor(rng() * 3);
  for (let c = 0; c < changes; c++) {
    const bodyStart = 2;
    const bodyEnd = lines.length - 1; // exclusive: the closing brace stays last
    const size = byteSize(lines);
    const r = rng();
    if ((r < 0.15 && size < MAX_BYTES - 40) || bodyEnd <= bodyStart) {
      lines.splice(bodyStart + Math.floor(rng() * (bodyEnd - bodyStart + 1)), 0, makeLine(rng));
    } else if (r < 0.3 && size > MIN_BYTES + 40 && bodyEnd - bodyStart > 1) {
      lines.splice(bodyStart + Math.floor(rng() * (bodyEnd - bodyStart)), 1);
    } else {
      lines[bodyStart + Math.floor(rng() * (bodyEnd - bodyStart))] = makeLine(rng);
    }
    // A replacement can grow the file past the limit; trim a body line to stay small.
    while (byteSize(lines) > MAX_BYTES && lines.length > 4) lines.splice(lines.length - 2, 1);
  }
}

/**
 * Files spread evenly over directories; each step edits a random file (its first step creates it),
 * the way real work interleaves files.
 */
export function generateHistory(options: HistoryOptions): History {
  const rng = createRng(options.seed);
  const dirWidth = String(options.dirs).length;
  const fileWidth = String(options.files).length;
  const dirs = Array.from({ length: options.dirs }, (_, d) => `d${String(d + 1).padStart(dirWidth, '0')}`);
  const paths = Array.from({ length: options.files }, (_, i) => {
    const dir = dirs[Math.floor((i * options.dirs) / options.files)]!;
    return `${dir}/f${String(i + 1).padStart(fileWidth, '0')}.txt`;
  });
  const current: (string[] | undefined)[] = new Array(options.files).fill(undefined);
  const steps: HistoryStep[] = [];
  let contentBytes = 0;
  for (let i = 0; i < options.versions; i++) {
    const file = Math.floor(rng() * options.files);
    let lines = current[file];
    if (!lines) {
      lines = initialLines(rng, file + 1);
      current[file] = lines;
    } else {
      edit(rng, lines);
    }
    const content = Buffer.from(lines.join('\n') + '\n');
    contentBytes += content.length;
    steps.push({ file, content, comment: `edit ${paths[file]!} (step ${i + 1})` });
  }
  return { dirs, paths, steps, contentBytes };
}
