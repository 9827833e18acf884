/**
 * Summarizes a V8 `.cpuprofile` (from `node --cpu-prof dist/bench/run.js --only ours`): the
 * functions with the most self time, the most inclusive time, and self time per source area, so a
 * profile can be read without a browser.
 *
 *   node dist/bench/profileSummary.js PROFILE.cpuprofile [--top 40] [--focus loadBulk]
 *
 * `--focus NAME` counts only samples whose stack contains a function called NAME, to leave out setup.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: 'string', default: '40' }, focus: { type: 'string' } },
});
const file = positionals[0];
if (!file) throw new Error('usage: profileSummary PROFILE.cpuprofile [--top N] [--focus FUNCTION]');
const top = Number(values.top);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

function shortUrl(url: string): string {
  const i = url.indexOf('/dist/');
  if (i >= 0) return url.slice(i + 6);
  const nm = url.indexOf('/node_modules/');
  if (nm >= 0) return url.slice(nm + 1);
  return url.replace(/^node:/, 'node:');
}
function key(f: CallFrame): string {
  return `${f.functionName || '(anonymous)'} ${shortUrl(f.url)}${f.url ? `:${f.lineNumber + 1}` : ''}`;
}
/** Where a function's code lives, coarse enough to say "zod" or "sqlite" rather than a line. */
function area(f: CallFrame): string {
  const u = f.url;
  if (!u) {
    // Native functions have no URL; better-sqlite3's statement methods are the natives we call.
    if (['get', 'run', 'all', 'pluck', 'prepare', 'exec', 'iterate'].includes(f.functionName)) return 'better-sqlite3 native (SQLite)';
    return `native/VM: ${f.functionName || '(anonymous)'}`;
  }
  const nm = u.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
  if (nm) return `npm: ${nm[1]!}`;
  const d = u.match(/\/dist\/(.*)$/);
  if (d) return d[1]!;
  return u.startsWith('node:') ? `node core: ${u.slice(5)}` : u;
}

const self = new Map<string, number>();
const inclusive = new Map<string, number>();
const areas = new Map<string, number>();
let total = 0;
profile.samples.forEach((id, i) => {
  const dt = profile.timeDeltas[i] ?? 0;
  const stack: CallFrame[] = [];
  for (let n: number | undefined = id; n !== undefined; n = parent.get(n)) stack.push(byId.get(n)!.callFrame);
  if (values.focus && !stack.some((f) => f.functionName === values.focus)) return;
  total += dt;
  const leaf = stack[0]!;
  self.set(key(leaf), (self.get(key(leaf)) ?? 0) + dt);
  areas.set(area(leaf), (areas.get(area(leaf)) ?? 0) + dt);
  // Count each function once per sample even when it recurses.
  for (const k of new Set(stack.map(key))) inclusive.set(k, (inclusive.get(k) ?? 0) + dt);
});

const print = (title: string, m: Map<string, number>, n: number): void => {
  console.log(`\n${title}`);
  for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, n)) {
    console.log(`  ${(us / 1000).toFixed(0).padStart(8)} ms ${((100 * us) / total).toFixed(1).padStart(5)}%  ${k}`);
  }
};
console.log(`${(total / 1000).toFixed(0)} ms sampled${values.focus ? ` under ${values.focus}` : ''}`);
print('self time by area', areas, top);
print('self time by function', self, top);
print('inclusive time by function', inclusive, top);
