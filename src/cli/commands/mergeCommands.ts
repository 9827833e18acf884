import { Option, type Command } from '@commander-js/extra-typings';
import { UsageError } from '../../core/errors.js';
import { findMerge, findMergeAndMerge, type FindMergeEntry, type FromSpec } from '../../view/findMerge.js';
import type { MergeChoice } from '../../view/mergeContents.js';
import { mergeVersions, type MergeReport } from '../../view/mergeVersions.js';
import { findView, viewRootFor } from '../../site/viewRegistry.js';
import { openView, withView, type View } from '../../view/view.js';
import { emit, inputPath, jsonOption, siteHome, type Io } from '../context.js';
import { viewCommand, viewPath, type ViewOptions } from './viewCommands.js';

/** The view a merging command works in: `--view TAG|DIR`'s, else the one its path is in. */
function viewFor(io: Io, opts: ViewOptions, path: string): string {
  return opts.view !== undefined ? viewRootFor(siteHome(io, opts), opts.view, io.cwd)! : inputPath(io, path);
}

/** The other view of `--ftag`: a registered tag, or a directory in a view. */
function otherView(io: Io, opts: ViewOptions, tag: string): View {
  const registered = findView(siteHome(io, opts), tag, io.cwd);
  return openView(registered?.path ?? inputPath(io, tag), { readonly: true });
}

/** `--ours`/`--theirs` as one choice; both at once is a usage error. */
function choiceOf(opts: { ours?: boolean; theirs?: boolean }): MergeChoice | undefined {
  if (opts.ours && opts.theirs) throw new UsageError('--ours and --theirs exclude each other');
  return opts.ours ? 'ours' : opts.theirs ? 'theirs' : undefined;
}

function lineRanges(report: MergeReport): string {
  return report.conflicts.map((c) => `${c.start}-${c.end}`).join(', ');
}

/** What a merge did, a line per version merged and one for the conflicts left. */
function mergeLines(report: MergeReport): string[] {
  const lines = report.contributors.map((c) => {
    if (c.how === 'already-merged') return `"${report.path}": ${c.version} is already merged; nothing to merge.`;
    const how = {
      merged: 'merged',
      trivial: 'trivial merge, the version taken whole',
      chosen: 'binary file, one contributor taken whole',
      unchanged: 'nothing new in it',
      ndata: 'merge recorded, data left as it was',
    }[c.how];
    return `Merged ${c.version} to "${report.path}" (base ${c.base}): ${how}.`;
  });
  const names = report.names;
  if (names?.added.length) lines.push(`Entered in "${report.path}": ${names.added.join(', ')}.`);
  if (names?.removed.length) lines.push(`Removed from "${report.path}": ${names.removed.join(', ')}.`);
  if (names?.conflicts.length) {
    lines.push(
      `Names changed on both sides in "${report.path}", left as they are: ${names.conflicts.join(', ')} (settle them with mv or rmname).`,
    );
  }
  if (report.conflicts.length) {
    lines.push(
      `Conflicts in "${report.path}" at lines ${lineRanges(report)}: edit the conflict blocks (<<<<<<< ======= >>>>>>>), then check it in.`,
    );
  }
  return lines;
}

/** The merge options every merging command takes: the contributor chosen where lines conflict or for binary files, or no data merge. */
const oursOption = () =>
  new Option('--ours', 'where both changed the same lines, or for a binary file, keep the file merged to (ClearCase: choose the target)');
const theirsOption = () => new Option('--theirs', 'where both changed the same lines, or for a binary file, take the version merged');
const ndataOption = () =>
  new Option('--ndata', 'merge no data: leave the file as it is and only record the merge arrow (ClearCase -ndata)');

/** `merge` and `findmerge`: merging in a snapshot view. */
export function registerMergeCommands(program: Command, io: Io): void {
  viewCommand(program, 'merge', 'three-way merge of versions into a checked-out file of a view, recording merge arrows')
    .requiredOption('--to <file>', 'the checked-out file in a snapshot view to merge to')
    .option('--print', 'show the merged result; write nothing and record no merge')
    .option('--version <version>', 'a version to merge from (as the VERSION arguments)')
    .addOption(jsonOption())
    .argument('[versions...]', 'versions to merge from: PATH@@/main/BRANCH/N, PATH@@LABEL, or /main/BRANCH/LATEST of FILE')
    .addOption(oursOption())
    .addOption(theirsOption())
    .addOption(ndataOption())
    .action(async (versions, _o, c) => {
      const opts = c.optsWithGlobals() as ViewOptions & {
        to: string;
        print?: boolean;
        version?: string;
        ours?: boolean;
        theirs?: boolean;
        ndata?: boolean;
      };
      const all = [...(opts.version ? [opts.version] : []), ...versions];
      if (all.length === 0) throw new UsageError('name the versions to merge from (VERSION... or --version V)');
      await withView(viewFor(io, opts, opts.to), {}, async (view) => {
        const to = viewPath(io, opts, view, opts.to);
        const report = await mergeVersions(
          view,
          to,
          all.map((v) => (v.includes('@@') ? viewPath(io, opts, view, v) : v)),
          {
            print: opts.print,
            choose: choiceOf(opts),
            ndata: opts.ndata,
          },
        );
        if (opts.json) {
          emit(io, opts, { ...report, result: report.result?.toString('utf8') }, () => '');
          return;
        }
        if (report.result) {
          io.out(report.result);
          for (const line of mergeLines(report)) io.err(`${line}\n`);
          return;
        }
        emit(io, opts, report, () => mergeLines(report).join('\n'));
      });
    });

  viewCommand(program, 'findmerge', 'find the elements under a path that need a merge from a version, branch or view, and merge them')
    .argument('<path>', 'a file or directory in a snapshot view')
    .option('--fversion <version>', 'merge from this version of each element (/main/BRANCH/LATEST, .../BRANCH/LATEST, a label)')
    .option('--flatest <brtype>', 'merge from the latest version on a branch of this type')
    .option('--ftag <view>', 'merge from the version another view (its tag, or a directory in it) selects')
    .addOption(new Option('--print', 'list the merges needed and the commands that would make them'))
    .addOption(new Option('--merge', 'check out and merge every element that needs it'))
    .addOption(new Option('--whynot', 'say for each element why it needs no merge'))
    .option('-c, --comment <text>', 'comment of the checkouts --merge makes', '')
    .addOption(jsonOption())
    .addOption(oursOption())
    .addOption(theirsOption())
    .addOption(ndataOption())
    .action(async (path, _o, c) => {
      const opts = c.optsWithGlobals() as ViewOptions & {
        fversion?: string;
        flatest?: string;
        ftag?: string;
        print?: boolean;
        merge?: boolean;
        whynot?: boolean;
        comment: string;
        ours?: boolean;
        theirs?: boolean;
        ndata?: boolean;
      };
      const froms = [opts.fversion, opts.flatest, opts.ftag].filter((f) => f !== undefined);
      if (froms.length !== 1) throw new UsageError('name where to merge from: one of --fversion V, --flatest BRTYPE, --ftag VIEW');
      const actions = [opts.print, opts.merge, opts.whynot].filter(Boolean);
      if (actions.length !== 1) throw new UsageError('say what to do: one of --print, --merge, --whynot');
      let other: View | undefined;
      await withView(viewFor(io, opts, path), {}, async (view) => {
        const target = viewPath(io, opts, view, path);
        try {
          let spec: FromSpec;
          if (opts.fversion !== undefined) spec = { fversion: opts.fversion };
          else if (opts.flatest !== undefined) spec = { flatest: opts.flatest };
          else {
            other = otherView(io, opts, opts.ftag!);
            spec = { ftag: other };
          }
          if (opts.merge) {
            const entries = await findMergeAndMerge(view, target, spec, {
              choose: choiceOf(opts),
              ndata: opts.ndata,
              comment: opts.comment,
            });
            const done = entries.filter((e) => e.needed);
            emit(io, opts, done, () =>
              done.length === 0
                ? 'No merges needed.'
                : done
                    .flatMap((e) => (e.error ? [`Merge of "${e.path}" from ${e.from} failed: ${e.error}`] : mergeLines(e.merge!)))
                    .join('\n'),
            );
            return;
          }
          const entries = findMerge(view, target, spec);
          const shown = opts.whynot ? entries : entries.filter((e) => e.needed);
          emit(io, opts, shown, () => (opts.whynot ? whynotText(entries) : printText(shown)));
        } finally {
          other?.close();
        }
      });
    });
}

function printText(needed: readonly FindMergeEntry[]): string {
  if (needed.length === 0) return 'No merges needed.';
  return [
    ...needed.map((e) => `Needs Merge "${e.path}" [to ${e.to} from ${e.from} base ${e.base}]`),
    '',
    'To merge them:',
    ...needed.map((e) => `  ${e.command}`),
  ].join('\n');
}

function whynotText(entries: readonly FindMergeEntry[]): string {
  return entries.map((e) => `${e.needed ? 'Needs Merge' : 'No merge'} "${e.path}": ${e.why}`).join('\n');
}
