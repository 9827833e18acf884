import { resolve } from 'node:path';
import { hasControlChar } from '../core/controlChars.js';
import { InvalidInputError } from '../core/errors.js';
import { newOid, type Oid } from '../core/ids.js';
import type { ProgressListener } from '../core/progress.js';
import { binaryDelta } from '../core/binaryDelta.js';
import { COMPRESS_MIN, ContentPool, DELTA_DEPTH, type PoolEntry } from '../vob/contentPool.js';
import { DELTA_MAX } from '../replication/exportUpdate.js';
import { importSteps, type ImportStep } from '../vob/commands/importVersions.js';
import type { OpKind } from '../vob/ops/registry.js';
import type { VersionMode } from '../vob/ops/schemas.js';
import { getType, typeByName } from '../vob/queries.js';
import type { TypeRow } from '../vob/rows.js';
import type { Vob } from '../vob/vob.js';
import { assignChains, type Chain, type NewCommit } from './commitChains.js';
import { fastExportEvents, type CommitEvent, type GitIdent } from './fastExportEvents.js';
import { DeflateWorker } from './deflateWorker.js';
import { GitCommandError } from './gitCommandError.js';
import { GitRepository } from './gitRepository.js';
import { copyState, initialState, rebuildState, type DirNode, type TreeState } from './treeState.js';
import { validTypeName } from './typeNames.js';

/** The attribute type naming, on each version an import made, the git commit that made it. */
export const GIT_COMMIT_ATTYPE = 'git_commit';
/** The attribute type naming, on each branch and label type an import made, the git ref it stands for. */
export const GIT_REF_ATTYPE = 'git_ref';

export interface GitImportOptions {
  /** Branch patterns (`git for-each-ref` globs under refs/heads/); with `tags`, only the refs named are imported. */
  branches?: readonly string[];
  /** Tag patterns (under refs/tags/). Neither given: every branch and tag. */
  tags?: readonly string[];
  onProgress?: ProgressListener;
  warn?: (message: string) => void;
  /**
   * Commits per transaction (default 250; a transaction also ends when 8 MiB of new content is
   * waiting, which bounds the memory held: two batches at most). Each commits its versions together
   * with their commit attributes, so an import stopped midway resumes after the last whole
   * transaction. Smaller batches let the deflate of one overlap the write of the one before more
   * often, at one fsync'd commit each.
   */
  batch?: number;
  /**
   * Tests only: once this many commits are committed, the process kills itself with SIGKILL, as a
   * crash at that point would (the interrupted-import test runs the real binary with it).
   */
  killAfter?: number;
}

/** How one git ref came in: the branch type its commits went on (branches) and the label type marking its tree. */
export interface RefMapping {
  ref: string;
  brtype: string | undefined;
  lbtype: string;
  commit: string;
}

export interface GitImportResult {
  /** Commits imported by this run. */
  commits: number;
  fileVersions: number;
  directoryVersions: number;
  /** Labels attached, moved or removed. */
  labels: number;
  mergeArrows: number;
  /** Branch types made for merged lines no ref names. */
  mergedLines: number;
  refs: RefMapping[];
  /** Paths not imported (submodules, names a VOB cannot hold), with why. */
  skipped: string[];
}

const DEFAULT_BATCH = 250;
/** Blobs up to this size are deflated on the worker; larger ones are left to the pool, which samples them first. */
const DEFLATE_MAX = 16 * 1024 * 1024;
const BATCH_BYTES = 8 * 1024 * 1024;
/**
 * The blobs kept in memory as bases of the next versions' deltas: the newest, up to this many bytes
 * (more than the two batches an import holds, so a base still waiting to be written is at hand).
 * Older bases are read back from the pool.
 */
const RECENT_BYTES = 48 * 1024 * 1024;

/** Blobs by SHA-256, the least recently used dropped past a byte budget. */
class RecentBlobs {
  private readonly blobs = new Map<string, Uint8Array>();
  private bytes = 0;
  constructor(private readonly budget: number) {}

  add(sha: string, bytes: Uint8Array): void {
    if (bytes.length > this.budget / 4 || this.blobs.has(sha)) return;
    this.blobs.set(sha, bytes);
    this.bytes += bytes.length;
    for (const [old, b] of this.blobs) {
      if (this.bytes <= this.budget) break;
      this.blobs.delete(old);
      this.bytes -= b.length;
    }
  }

  get(sha: string): Uint8Array | undefined {
    const bytes = this.blobs.get(sha);
    if (bytes) {
      // Used again: the newest now (a Map keeps insertion order).
      this.blobs.delete(sha);
      this.blobs.set(sha, bytes);
    }
    return bytes;
  }
}

interface RefInfo {
  ref: string;
  sha: string;
  kind: 'branch' | 'tag';
  /** The short name (`main`, `v1.0`). */
  name: string;
}

/** A branch of one element that versions go on: its OID and the last version number on it. */
interface BranchSlot {
  oid: Oid;
  last: number;
}

/**
 * Imports a git history into a VOB: `git fast-export` of the selected refs is read as it streams,
 * and each commit becomes, in order, new elements, file versions and directory versions (with the
 * commit's message, author and date, and a `git_commit` attribute naming it), merge arrows from
 * what it merged, and labels for the refs that point at it. The default branch goes on /main, each
 * other line of history on a branch type of its own (see assignChains), each ref's tree gets a label
 * type, so `element * NAME` selects it. Commits already imported (a `git_commit` attribute names
 * them) are left out of the export, so a second run imports only what is new, and a run that was
 * killed finishes the job. Everything is written through the bulk path (importSteps), as ops.
 */
export async function gitImport(vob: Vob, repoPath: string, options: GitImportOptions = {}): Promise<GitImportResult> {
  const repo = new GitRepository(resolve(repoPath));
  repo.check();
  const batch = options.batch ?? DEFAULT_BATCH;
  if (!Number.isSafeInteger(batch) || batch < 1) throw new InvalidInputError(`batch must be a positive integer, not ${batch}`);
  const warn = options.warn ?? (() => {});
  const result: GitImportResult = {
    commits: 0,
    fileVersions: 0,
    directoryVersions: 0,
    labels: 0,
    mergeArrows: 0,
    mergedLines: 0,
    refs: [],
    skipped: [],
  };

  const refs = selectRefs(repo, options, warn);
  const bytesBefore = vob.databaseBytes();
  const attypes = ensureAttypes(vob);
  const imported = importedCommits(vob, attypes.commit);
  const refTypes = typesByRef(vob, attypes.ref);
  const mainType = getType(vob, vob.meta('main_brtype')!)!;
  const taken = new Set<string>();
  const skippedPaths = new Set<string>();

  // Every new commit and its parents, before the stream: lines of history are assigned from the
  // refs' tips, which the stream reaches last.
  const exclusions = [...imported.keys()].map((sha) => `^${sha}`);
  const revInput = [...new Set(refs.map((r) => r.sha)), ...exclusions].join('\n') + '\n';
  const commits: NewCommit[] = [];
  if (refs.length) {
    // The subject behind a '>': rev-list leaves out a format's line when it comes out empty (a commit
    // with no message), which would pair every later commit with the next one's subject.
    const lines = repo.lines(['rev-list', '--topo-order', '--parents', '--format=>%s', '--stdin'], revInput);
    for (let i = 0; i < lines.length; i += 2) {
      const ids = lines[i]!.replace(/^commit /, '').split(' ');
      commits.push({ sha: ids[0]!, parents: ids.slice(1), subject: (lines[i + 1] ?? '>').slice(1) });
    }
  }
  const defaultRef = refs.find((r) => r.kind === 'branch');
  const { chainOf } = assignChains(
    commits,
    refs.map((r) => ({ ref: r.ref, sha: r.sha, name: r.name })),
  );

  // Branch types, made as the first commit on each line is written.
  const chainTypes = new Map<string, { type: Oid; name: string; made: boolean }>();
  const tipQuery = vob
    .q(
      `SELECT a.value FROM branch b JOIN version v ON v.branch = b.oid JOIN attribute a ON a.object = v.oid AND a.attype = ?
       WHERE b.brtype = ? ORDER BY v.oid DESC LIMIT 1`,
    )
    .pluck();
  const chainType = (chain: Chain, ops: ImportStep['ops'][number][]): Oid => {
    let t = chainTypes.get(chain.key);
    if (!t) {
      // A line goes on where an earlier run left it (interrupted, or the branch has grown) when it
      // starts at the last commit that run wrote on that branch type; otherwise it gets a new one.
      const baseType = chain.base !== undefined ? imported.get(chain.base) : undefined;
      const baseRef = baseType ? refTypes.refOf.get(baseType) : undefined;
      const continues =
        baseType !== undefined &&
        baseType !== mainType.oid &&
        (baseRef === undefined || baseRef === chain.ref) &&
        tipQuery.get(attypes.commit, baseType) === chain.base;
      if (chain.ref === defaultRef?.ref) t = { type: mainType.oid, name: mainType.name, made: false };
      else if (continues) t = { type: baseType, name: getType(vob, baseType)!.name, made: false };
      else {
        const name = validTypeName(vob, 'brtype', chain.name, taken);
        t = { type: newOid(), name, made: true };
        ops.push({
          kind: 'mktype',
          data: { type: t.type, kind: 'brtype', name, comment: chain.ref ? `git ${chain.ref}` : `git line merged at ${chain.base ?? ''}` },
        });
        if (chain.ref) ops.push(attr(attypes.ref, t.type, chain.ref));
        else result.mergedLines++;
      }
      chainTypes.set(chain.key, t);
    }
    return t.type;
  };
  const refMapping = new Map<string, RefMapping>();

  // Which refs point at each commit, for the labels written with it.
  const refsAt = new Map<string, RefInfo[]>();
  for (const r of refs) refsAt.set(r.sha, [...(refsAt.get(r.sha) ?? []), r]);

  // States are kept while a commit still has children to come.
  const pendingChildren = new Map<string, number>();
  for (const c of commits) for (const p of c.parents) pendingChildren.set(p, (pendingChildren.get(p) ?? 0) + 1);
  const states = new Map<string, TreeState>();
  const stateOf = (sha: string | undefined): TreeState => {
    if (sha === undefined) return initialState(vob);
    let s = states.get(sha);
    if (!s) {
      s = rebuildState(vob, repo.lines(['rev-list', '--first-parent', sha]), attypes.commit);
      states.set(sha, s);
    }
    return s;
  };
  const release = (sha: string): void => {
    const n = (pendingChildren.get(sha) ?? 0) - 1;
    pendingChildren.set(sha, n);
    if (n <= 0) states.delete(sha);
  };

  const branches = new Map<string, BranchSlot>();
  const branchQuery = vob.q('SELECT oid, last_number FROM branch WHERE element = ? AND brtype = ?');
  const eltypes = {
    file: typeByName(vob, 'eltype', 'file')!.oid,
    directory: typeByName(vob, 'eltype', 'directory')!.oid,
  };
  const mainOid = mainType.oid;

  /** The branch of type `brtype` of `element`, made at `base` when the element has none. */
  const branchFor = (element: Oid, brtype: Oid, base: Oid, ops: ImportStep['ops'][number][], comment: string): BranchSlot => {
    const key = `${element} ${brtype}`;
    let slot = branches.get(key);
    if (slot) return slot;
    const row = branchQuery.get(element, brtype) as { oid: Oid; last_number: number } | undefined;
    if (row) slot = { oid: row.oid, last: row.last_number };
    else {
      slot = { oid: newOid(), last: 0 };
      ops.push({ kind: 'mkbranch', data: { branch: slot.oid, brtype, from: base, version: newOid(), comment } });
    }
    branches.set(key, slot);
    return slot;
  };

  /** Blob marks of the stream → SHA-256 of their bytes (which wait in a batch until it is written). */
  const blobs = new Map<string, { sha: string }>();
  const seenBlobs = new Set<string>();
  type PendingBlob = PoolEntry & { deflating?: Promise<Uint8Array> };
  /**
   * Blobs of the stream not yet given a stored form: fast-export gives a commit's new blobs just
   * before the commit, which says which version each replaces (`deltaBases`), the base of a delta.
   */
  const undecided: PendingBlob[] = [];
  const deltaBases = new Map<string, string>();
  const recent = new RecentBlobs(RECENT_BYTES);
  const depths = new Map<string, number>();
  const depthOf = (sha: string): number => {
    let d = depths.get(sha);
    if (d === undefined) depths.set(sha, (d = vob.pool.deltaDepth(sha)));
    return d;
  };
  /** The bytes of `sha` when at hand: seen lately in the stream, or stored by an earlier run. */
  const bytesOf = (sha: string): Uint8Array | undefined => recent.get(sha) ?? (vob.pool.contains(sha) ? vob.pool.get(sha) : undefined);
  /**
   * Gives each undecided blob its stored form: a delta against the version it replaces when that is
   * small (a quarter of its bytes at most, about what deflate makes of source text, so it is never
   * much worse than deflating it; measured on real histories the median delta is a few percent), or
   * else its raw deflate, made on the worker thread while the stream goes on.
   */
  const decide = (deflater: DeflateWorker): void => {
    for (const blob of undecided) {
      const size = blob.bytes.length;
      const baseSha = deltaBases.get(blob.sha);
      deltaBases.delete(blob.sha);
      if (baseSha !== undefined && size >= COMPRESS_MIN && size <= DELTA_MAX) {
        const baseDepth = depthOf(baseSha);
        const base = baseDepth < DELTA_DEPTH ? bytesOf(baseSha) : undefined;
        const delta = base && base.length <= DELTA_MAX ? binaryDelta(base, blob.bytes, Math.floor(size / 4) - 32) : undefined;
        if (delta) {
          blob.delta = { base: baseSha, bytes: delta };
          depths.set(blob.sha, baseDepth + 1);
          continue;
        }
      }
      depths.set(blob.sha, 0);
      if (size >= COMPRESS_MIN && size <= DEFLATE_MAX) {
        blob.deflating = deflater.deflate(blob.bytes);
        blob.deflating.catch(() => {});
      }
    }
    undecided.length = 0;
  };
  interface Batch {
    steps: ImportStep[];
    blobs: PendingBlob[];
    bytes: number;
    commits: number;
  }
  const newBatch = (): Batch => ({ steps: [], blobs: [], bytes: 0, commits: 0 });
  let filling = newBatch();
  /**
   * The batch before `filling`, its blobs still being deflated. It is written when the next one is
   * full, so the worker deflates one batch while this thread writes the one before (a write blocks
   * this thread, and so the stream, for its whole transaction).
   */
  let sealed: Batch | undefined;
  let committed = 0;
  const write = async (b: Batch): Promise<void> => {
    if (!b.steps.length && !b.blobs.length) return;
    for (const blob of b.blobs) if (blob.deflating) blob.deflated = await blob.deflating;
    const steps = b.steps.length
      ? [{ ...b.steps[0]!, contents: [...b.steps[0]!.contents, ...b.blobs] }, ...b.steps.slice(1)]
      : [{ contents: b.blobs, ops: [] }];
    importSteps(vob, steps);
    committed += b.commits;
    result.commits = committed;
    if (options.killAfter !== undefined && committed >= options.killAfter) process.kill(process.pid, 'SIGKILL');
  };
  /** Seals the filling batch; writes the sealed one first, and with `all` the new one too. */
  const flush = async (all: boolean): Promise<void> => {
    const full = filling;
    filling = newBatch();
    if (sealed) await write(sealed);
    sealed = full;
    if (all) {
      await write(full);
      sealed = undefined;
    }
  };
  const total = commits.length;
  const started = performance.now();
  options.onProgress?.({ step: 'importing commits', done: 0, total, unit: 'commits' });

  const labelStep = (r: RefInfo, state: TreeState, ops: ImportStep['ops'][number][]): void => {
    const existing = refTypes.byRef.get(r.ref)?.lbtype;
    let lbtype: Oid;
    let name: string;
    let current = new Map<string, Oid>();
    if (existing) {
      lbtype = existing.oid;
      name = existing.name;
      current = new Map(
        (vob.q('SELECT element, version FROM label WHERE lbtype = ?').all(lbtype) as { element: string; version: Oid }[]).map((l) => [
          l.element,
          l.version,
        ]),
      );
    } else {
      lbtype = newOid();
      name = validTypeName(vob, 'lbtype', r.name, taken);
      ops.push({ kind: 'mktype', data: { type: lbtype, kind: 'lbtype', name, comment: `git ${r.ref}` } });
      ops.push(attr(attypes.ref, lbtype, r.ref));
      refTypes.byRef.set(r.ref, { ...refTypes.byRef.get(r.ref), lbtype: { oid: lbtype, name } as TypeRow });
    }
    const wanted = new Map<string, Oid>();
    for (const d of state.dirs.values()) wanted.set(d.element, d.version);
    for (const f of state.files.values()) wanted.set(f.element, f.version);
    for (const [element, version] of wanted) {
      const was = current.get(element);
      if (was === version) continue;
      ops.push({ kind: 'mklabel', data: { lbtype, version, replace: was !== undefined } });
      result.labels++;
    }
    for (const [element, version] of current) {
      if (wanted.has(element)) continue;
      ops.push({ kind: 'rmlabel', data: { lbtype, version } });
      result.labels++;
    }
    ops.push(attr(attypes.commit, lbtype, r.sha, existing !== undefined));
    refMapping.set(r.ref, { ref: r.ref, brtype: undefined, lbtype: name, commit: r.sha });
  };

  if (commits.length) {
    const exporter = repo.spawn([
      'fast-export',
      '--stdin',
      '--use-done-feature',
      '--show-original-ids',
      '--reference-excluded-parents',
      '--signed-tags=strip',
      '--tag-of-filtered-object=drop',
      '--reencode=yes',
      '-M',
    ]);
    const exited = new Promise<number | null>((done) => exporter.child.once('close', (code) => done(code)));
    const spawnFailed = new Promise<never>((_, fail) =>
      exporter.child.once('error', (err) => fail(new GitCommandError(`cannot run git fast-export: ${err.message}`, { cause: err }))),
    );
    spawnFailed.catch(() => {});
    exporter.child.stdin.end(revInput);
    const marks = new Map<string, string>(); // commit mark → commit id
    const deflater = new DeflateWorker();
    try {
      for await (const event of fastExportEvents(exporter.child.stdout)) {
        if (event.type === 'blob') {
          const sha = ContentPool.hash(event.data);
          if (event.mark) blobs.set(event.mark, { sha });
          if (seenBlobs.has(sha)) continue;
          seenBlobs.add(sha);
          const blob: PendingBlob = { sha, bytes: event.data };
          undecided.push(blob);
          recent.add(sha, event.data);
          filling.blobs.push(blob);
          filling.bytes += event.data.length;
          continue;
        }
        if (event.type !== 'commit') continue;
        const sha = event.originalOid;
        if (!sha) throw new GitCommandError('git fast-export gave a commit without its id (git 2.21 or newer is needed)');
        if (event.mark) marks.set(event.mark, sha);
        const parentOf = (ref: string): string => marks.get(ref) ?? ref;
        const parents = [event.from, ...event.merges].filter((p): p is string => p !== undefined).map(parentOf);
        const chain = chainOf.get(sha);
        if (!chain) throw new GitCommandError(`git fast-export gave commit ${sha}, which rev-list did not list`);
        const step = importCommit(event, sha, parents, chain);
        decide(deflater);
        filling.steps.push(step);
        filling.commits++;
        for (const p of parents) release(p);
        const seconds = Math.max(0.001, (performance.now() - started) / 1000);
        const done = committed + (sealed?.commits ?? 0) + filling.commits;
        options.onProgress?.({
          step: 'importing commits',
          done,
          total,
          unit: `commits, ${(result.fileVersions + result.directoryVersions).toLocaleString('en-US')} versions, ${Math.round(done / seconds)} commits/s`,
        });
        const atKill = options.killAfter !== undefined && done >= options.killAfter;
        if (filling.commits >= batch || filling.bytes >= BATCH_BYTES || atKill) await flush(atKill);
      }
      decide(deflater);
      await flush(true);
    } catch (err) {
      // A stream that stopped because git failed (a missing object in a damaged repository) is
      // git's failure: its own words say what is wrong, not the cut it left in the stream.
      const ended = exporter.child.stdout.readableEnded;
      const failed = ended ? await Promise.race([exited, new Promise<null>((done) => setTimeout(() => done(null), 2000).unref())]) : null;
      exporter.child.kill();
      if (failed !== null && failed !== 0 && exporter.stderr()) {
        throw new GitCommandError(`git fast-export failed in ${repo.dir}: ${exporter.stderr()}`, { cause: err });
      }
      throw err;
    } finally {
      await deflater.close();
    }
    const code = await Promise.race([exited, spawnFailed]);
    if (code !== 0) throw new GitCommandError(`git fast-export failed in ${repo.dir}: ${exporter.stderr() || `exit status ${code}`}`);
  }

  // Refs whose commits were imported before (a new tag on old history, a branch moved back):
  // their labels are moved to the tree they name now.
  const late: ImportStep['ops'][number][] = [];
  const labeledAt = labeledCommits(vob, attypes.commit);
  for (const r of refs) {
    if (refMapping.has(r.ref)) continue;
    const lb = refTypes.byRef.get(r.ref)?.lbtype;
    if (lb && labeledAt.get(lb.oid) === r.sha) {
      refMapping.set(r.ref, { ref: r.ref, brtype: undefined, lbtype: lb.name, commit: r.sha });
      continue;
    }
    labelStep(r, stateOf(r.sha), late);
  }
  if (late.length) importSteps(vob, [{ contents: [], ops: late }]);

  for (const r of refs) {
    const m = refMapping.get(r.ref);
    if (!m) continue;
    if (r.kind === 'branch') {
      const chain = chainTypes.get(`ref:${r.ref}`);
      m.brtype = chain?.name ?? refTypes.byRef.get(r.ref)?.brtype?.name ?? (r === defaultRef ? mainType.name : undefined);
    }
    result.refs.push(m);
  }
  // A run that wrote most of the database (a first import) leaves its pages part empty: compacted,
  // the VOB takes a ninth less room (Vob.compact). A run that added a little is left as it is.
  if (result.commits > 0 && vob.databaseBytes() >= 2 * bytesBefore) vob.compact();
  return result;

  /** The ops of one commit, its state kept for its children and labels. */
  function importCommit(event: CommitEvent, sha: string, parents: string[], chain: Chain): ImportStep {
    const ops: ImportStep['ops'][number][] = [];
    const arrows: [Oid, Oid][] = [];
    const brtype = chainType(chain, ops);
    const before = stateOf(parents[0]);
    const merged = parents.slice(1).map((p) => stateOf(p));
    const work = copyState(before);
    const comment = commentOf(event.message);
    const author = identText(event.author ?? event.committer);
    const time = (event.author ?? event.committer)?.time ?? null;

    // 1. The tree's files after the commit's changes; changed paths need a new version.
    const changed = new Set<string>();
    // Paths whose file may differ from the first parent's: only they can change directory entries
    // (all of them after a deleteall), so the tree is not walked for each commit.
    const touched = new Set<string>();
    let everything = false;
    /** The files at `path` or under it, looked for under it only when `path` is not a file. */
    const filesAt = (path: string): string[] => {
      if (work.files.has(path)) return [path];
      const prefix = `${path}/`;
      return [...work.files.keys()].filter((p) => p.startsWith(prefix));
    };
    const removeUnder = (path: string): void => {
      for (const p of filesAt(path)) {
        work.files.delete(p);
        changed.delete(p);
        touched.add(p);
      }
    };
    for (const change of event.changes) {
      switch (change.op) {
        case 'deleteall':
          work.files.clear();
          changed.clear();
          everything = true;
          break;
        case 'D':
          removeUnder(change.path);
          break;
        case 'M': {
          if (!acceptPath(change.path)) break;
          const mode = modeOf(change.mode);
          if (mode === undefined) {
            skip(
              `${change.path}: ${change.mode === '160000' ? 'a submodule' : `mode ${change.mode}`} (first met in commit ${sha.slice(0, 12)})`,
              change.path,
            );
            removeUnder(change.path);
            break;
          }
          const blob = blobs.get(change.ref);
          if (!blob) throw new GitCommandError(`git fast-export named blob ${change.ref} before giving it (commit ${sha})`);
          const prev = work.files.get(change.path);
          if (prev && prev.content === blob.sha && prev.mode === mode) break;
          if (prev && prev.content !== blob.sha && !deltaBases.has(blob.sha)) deltaBases.set(blob.sha, prev.content);
          work.files.set(change.path, {
            ...(prev ?? { element: undefined as unknown as Oid, version: undefined as unknown as Oid }),
            content: blob.sha,
            mode,
          });
          changed.add(change.path);
          touched.add(change.path);
          break;
        }
        case 'R':
        case 'C': {
          if (!acceptPath(change.path)) break;
          for (const p of filesAt(change.from)) {
            const node = work.files.get(p)!;
            const to = change.path + p.slice(change.from.length);
            touched.add(p);
            touched.add(to);
            if (change.op === 'R') {
              work.files.delete(p);
              if (changed.delete(p)) changed.add(to);
              work.files.set(to, node);
            } else {
              work.files.set(to, { ...node, element: undefined as unknown as Oid });
              changed.add(to);
            }
          }
          break;
        }
      }
    }

    // 2. File versions: elements for new paths (brought by a merge, or new), then their versions.
    let inUse: Set<Oid> | undefined;
    const used = (): Set<Oid> => {
      inUse ??= new Set(
        [...[...work.files.values()].map((f) => f.element), ...[...work.dirs.values()].map((d) => d.element)].filter(Boolean),
      );
      return inUse;
    };
    const newElement = (kind: 'file' | 'directory'): { element: Oid; version: Oid } => {
      const element = newOid();
      const branch = newOid();
      const version = newOid();
      ops.push({ kind: 'importelem', data: { element, kind, eltype: eltypes[kind], branch, version, comment, time } });
      branches.set(`${element} ${mainOid}`, { oid: branch, last: 0 });
      used().add(element);
      return { element, version };
    };
    // Ops by kind, so each kind goes in as one run (applyRun): branches, then versions, then the
    // attributes naming the commit.
    const branchOps: ImportStep['ops'][number][] = [];
    const versionOps: ImportStep['ops'][number][] = [];
    const attrOps: ImportStep['ops'][number][] = [];
    for (const path of changed) {
      const node = work.files.get(path)!;
      let element = node.element;
      let base = node.version;
      if (!element) {
        const from = merged.map((m) => m.files.get(path)).find((f) => f && !used().has(f.element));
        if (from) {
          element = from.element;
          base = from.version;
          used().add(element);
        } else ({ element, version: base } = newElement('file'));
      }
      const slot = branchFor(element, brtype, base, branchOps, comment);
      const version = newOid();
      versionOps.push({
        kind: 'mkversion',
        data: { branch: slot.oid, version, number: ++slot.last, content: node.content, comment, mode: node.mode, author, time },
      });
      attrOps.push(attr(attypes.commit, version, sha));
      for (const m of merged) {
        const theirs = m.files.get(path);
        if (theirs && theirs.element === element && theirs.version !== base) arrows.push([theirs.version, version]);
      }
      work.files.set(path, { element, version, content: node.content, mode: node.mode });
      result.fileVersions++;
    }

    // 3. Directories whose entries changed: names added, removed or pointing elsewhere.
    const edits = new Map<string, Map<string, Oid | null>>();
    const edit = (dir: string, name: string, element: Oid | null): void => {
      let m = edits.get(dir);
      if (!m) edits.set(dir, (m = new Map()));
      m.set(name, element);
    };
    const split = (path: string): [string, string] => {
      const at = path.lastIndexOf('/');
      return at < 0 ? ['', path] : [path.slice(0, at), path.slice(at + 1)];
    };
    const newDirs = new Map<string, DirNode>();
    const ensureDir = (dir: string): void => {
      if (work.dirs.has(dir)) return;
      const reuse = merged.map((m) => m.dirs.get(dir)).find((d) => d && !used().has(d.element));
      let node: DirNode;
      if (reuse) {
        node = { element: reuse.element, version: reuse.version, entries: new Map() };
        used().add(reuse.element);
      } else {
        const { element, version } = newElement('directory');
        node = { element, version, entries: new Map() };
      }
      work.dirs.set(dir, node);
      newDirs.set(dir, node);
      const [parent, name] = split(dir);
      ensureDir(parent);
      edit(parent, name, node.element);
    };
    const candidates = everything ? new Set([...before.files.keys(), ...work.files.keys()]) : touched;
    // Names taken away first, then names given: a commit may give a removed name to something else
    // (a file where a directory was), and fast-export may list the new path before the deletion.
    const moved = [...candidates].filter((path) => before.files.get(path)?.element !== work.files.get(path)?.element);
    for (const path of moved) {
      const [dir, name] = split(path);
      if (before.files.has(path)) edit(dir, name, null);
    }
    for (const path of moved) {
      const now = work.files.get(path);
      if (!now) continue;
      // New, brought by a merge, or renamed without a change of content: a name for its element.
      const [dir, name] = split(path);
      ensureDir(dir);
      edit(dir, name, now.element);
    }
    // Deepest first, so a directory left empty is removed from its parent before the parent is written.
    const finalEntries = new Map<string, Map<string, Oid>>();
    for (;;) {
      const todo = [...edits.keys()].filter((d) => !finalEntries.has(d)).sort((a, b) => depth(b) - depth(a));
      if (!todo.length) break;
      const dir = todo[0]!;
      const node = work.dirs.get(dir);
      const entries = new Map(node?.entries ?? []);
      for (const [name, element] of edits.get(dir)!) {
        if (element === null) entries.delete(name);
        else entries.set(name, element);
      }
      finalEntries.set(dir, entries);
      if (dir !== '' && entries.size === 0) {
        const [parent, name] = split(dir);
        work.dirs.delete(dir);
        finalEntries.delete(dir);
        edits.delete(dir);
        // A directory may be re-edited only by its children, all deeper: it is done with. Its name
        // is left alone when the commit gave it to a file.
        const planned = edits.get(parent)?.get(name);
        if (planned === undefined || planned === null || planned === node?.element) edit(parent, name, null);
        finalEntries.delete(parent);
      }
    }
    for (const [dir, entries] of finalEntries) {
      const node = work.dirs.get(dir);
      if (!node) continue;
      const sorted = [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      if (!newDirs.has(dir) && sameEntries(node.entries, sorted)) continue;
      const slot = branchFor(node.element, brtype, node.version, branchOps, comment);
      const version = newOid();
      versionOps.push({
        kind: 'mkdirversion',
        data: { branch: slot.oid, version, number: ++slot.last, entries: sorted, comment, author, time },
      });
      attrOps.push(attr(attypes.commit, version, sha));
      for (const m of merged) {
        const theirs = m.dirs.get(dir);
        if (theirs && theirs.element === node.element && theirs.version !== node.version) arrows.push([theirs.version, version]);
      }
      work.dirs.set(dir, { element: node.element, version, entries: new Map(sorted) });
      result.directoryVersions++;
    }
    ops.push(...branchOps, ...versionOps, ...attrOps);
    result.mergeArrows += arrows.length;

    // 4. Labels of the refs that point here.
    for (const r of refsAt.get(sha) ?? []) labelStep(r, work, ops);
    if ((pendingChildren.get(sha) ?? 0) > 0) states.set(sha, work);
    return { contents: [], ops, mergeArrows: arrows };
  }

  function acceptPath(path: string): boolean {
    for (const name of path.split('/')) {
      if (name === '' || name === '.' || name === '..' || name.includes('@@') || hasControlChar(name) || name.length > 255) {
        skip(`${JSON.stringify(path)}: a name a VOB cannot hold`, path);
        return false;
      }
    }
    return true;
  }

  /** Says once per path what was not imported, however many commits change it. */
  function skip(what: string, path: string): void {
    if (skippedPaths.has(path)) return;
    skippedPaths.add(path);
    result.skipped.push(what);
    warn(`not imported: ${what}`);
  }
}

function depth(dir: string): number {
  return dir === '' ? 0 : dir.split('/').length;
}

function sameEntries(a: ReadonlyMap<string, Oid>, b: readonly (readonly [string, Oid])[]): boolean {
  if (a.size !== b.length) return false;
  for (const [name, el] of b) if (a.get(name) !== el) return false;
  return true;
}

function attr(attype: Oid, object: Oid, value: string, replace = false): { kind: OpKind; data: unknown } {
  return { kind: 'mkattr', data: { attribute: newOid(), attype, object, value, replace } };
}

/** `100644` → a plain file, `100755` → executable, `120000` → symlink; others (submodules) cannot be versions. */
function modeOf(mode: string): VersionMode | undefined {
  if (mode === '100644' || mode === '644') return null;
  if (mode === '100755' || mode === '755') return 'executable';
  if (mode === '120000') return 'symlink';
  return undefined;
}

function identText(ident: GitIdent | undefined): string | null {
  if (!ident) return null;
  return clean(ident.email ? `${ident.name} <${ident.email}>` : ident.name);
}

/** A commit message as a comment: CRLF as LF, other control characters (bar tab) as U+FFFD, the last newline dropped. */
function commentOf(message: Buffer): string {
  return clean(message.toString('utf8').replace(/\r\n/g, '\n').replace(/\n+$/, ''));
}

function clean(text: string): string {
  // eslint-disable-next-line no-control-regex -- replacing control characters is the point
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/g, '\ufffd');
}

/** The attribute types an import writes, made on its first run. */
function ensureAttypes(vob: Vob): { commit: Oid; ref: Oid } {
  const ops: { kind: OpKind; data: unknown }[] = [];
  const get = (name: string, comment: string): Oid => {
    const t = typeByName(vob, 'attype', name);
    if (t) return t.oid;
    const type = newOid();
    ops.push({ kind: 'mktype', data: { type, kind: 'attype', name, vtype: 'string', comment } });
    return type;
  };
  const commit = get(GIT_COMMIT_ATTYPE, 'the git commit an imported version or label came from');
  const ref = get(GIT_REF_ATTYPE, 'the git ref an imported branch or label type stands for');
  if (ops.length) importSteps(vob, [{ contents: [], ops }]);
  return { commit, ref };
}

/** Commits imported before, each with the branch type its versions went on. */
function importedCommits(vob: Vob, attype: Oid): Map<string, Oid> {
  const rows = vob
    .q(
      `SELECT a.value, b.brtype FROM attribute a JOIN version v ON v.oid = a.object JOIN branch b ON b.oid = v.branch
       WHERE a.attype = ?`,
    )
    .raw()
    .all(attype) as [string, Oid][];
  return new Map(rows);
}

/** The commit each label type made by an import stands for now. */
function labeledCommits(vob: Vob, attype: Oid): Map<Oid, string> {
  const rows = vob
    .q("SELECT a.object, a.value FROM attribute a JOIN type t ON t.oid = a.object WHERE a.attype = ? AND t.kind = 'lbtype'")
    .raw()
    .all(attype) as [Oid, string][];
  return new Map(rows);
}

/** The branch and label types earlier imports made for each ref (the newest, when a line was restarted). */
function typesByRef(vob: Vob, attype: Oid): { byRef: Map<string, { brtype?: TypeRow; lbtype?: TypeRow }>; refOf: Map<Oid, string> } {
  const rows = vob
    .q('SELECT a.value AS ref, t.* FROM attribute a JOIN type t ON t.oid = a.object WHERE a.attype = ? ORDER BY t.created_at, t.oid')
    .all(attype) as (TypeRow & { ref: string })[];
  const out = new Map<string, { brtype?: TypeRow; lbtype?: TypeRow }>();
  const refOf = new Map<Oid, string>();
  for (const row of rows) {
    refOf.set(row.oid, row.ref);
    const entry = out.get(row.ref) ?? {};
    if (row.kind === 'brtype') entry.brtype = row;
    if (row.kind === 'lbtype') entry.lbtype = row;
    out.set(row.ref, entry);
  }
  return { byRef: out, refOf };
}

/** The refs to import: selected branches (default branch first), then tags, each peeled to its commit. */
function selectRefs(repo: GitRepository, options: GitImportOptions, warn: (m: string) => void): RefInfo[] {
  const selective = options.branches !== undefined || options.tags !== undefined;
  const patterns = [
    ...(selective ? (options.branches ?? []).map((p) => `refs/heads/${p}`) : ['refs/heads/']),
    ...(selective ? (options.tags ?? []).map((p) => `refs/tags/${p}`) : ['refs/tags/']),
  ];
  if (!patterns.length) return [];
  const lines = repo.lines([
    'for-each-ref',
    '--format=%(refname)%00%(objecttype)%00%(objectname)%00%(*objecttype)%00%(*objectname)',
    ...patterns,
  ]);
  const refs: RefInfo[] = [];
  for (const line of lines) {
    const [ref, type, oid, peeledType, peeled] = line.split('\0') as [string, string, string, string, string];
    const sha = type === 'commit' ? oid : peeledType === 'commit' ? peeled : undefined;
    if (!sha) {
      warn(`not imported: ${ref} names a ${peeledType || type}, not a commit`);
      continue;
    }
    const kind = ref.startsWith('refs/heads/') ? 'branch' : 'tag';
    refs.push({ ref, sha, kind, name: ref.replace(/^refs\/(heads|tags)\//, '') });
  }
  let head: string | undefined;
  try {
    head = repo.lines(['symbolic-ref', '-q', 'HEAD'])[0];
  } catch {
    head = undefined;
  }
  const rank = (r: RefInfo): number => (r.kind === 'tag' ? 2 : r.ref === head ? 0 : 1);
  return refs.sort((a, b) => rank(a) - rank(b) || (a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0));
}
