import type { Command } from '@commander-js/extra-typings';
import { UsageError } from '../../core/errors.js';
import { fsImport, type FsImportResult } from '../../history/fsImport.js';
import { fsImportInView } from '../../history/fsImportInView.js';
import { gitImport } from '../../history/gitImport.js';
import { describeEntry } from '../../view/updateView.js';
import { findViewRoot, withView } from '../../view/view.js';
import { progressLine } from '../progressLine.js';
import { configSpec, emit, inputPath, jsonOption, pathCommand, vobCommand, withVob, type Io } from '../context.js';

/** Commands that bring existing history into a VOB: gitimport and fsimport. */
export function registerHistoryCommands(program: Command, io: Io): void {
  vobCommand(program, 'gitimport', 'import a git history: versions, branches, labels and merge arrows; run again for new commits')
    .option('--branches <pattern...>', 'branches to import (git for-each-ref patterns under refs/heads/)')
    .option('--tags <pattern...>', 'tags to import (patterns under refs/tags/); neither option: every branch and tag')
    .addOption(jsonOption())
    .argument('<repo>', 'a git repository (working tree or bare)')
    .action((repo, _o, c) => {
      const opts = c.optsWithGlobals();
      return withVob(io, opts, async (vob) => {
        const line = progressLine({ isTTY: io.stderrIsTTY, write: (t) => io.err(t) });
        const killAfter = io.env.MSITE_TEST_GITIMPORT_KILL_AFTER;
        try {
          const r = await gitImport(vob, inputPath(io, repo), {
            branches: opts.branches,
            tags: opts.tags,
            onProgress: line.listener,
            warn: (m) => {
              line.clear();
              io.err(`msite: warning: ${m}\n`);
            },
            killAfter: killAfter ? Number(killAfter) : undefined,
          });
          line.end();
          emit(io, opts, r, () =>
            [
              ...r.refs.map((m) => `${m.ref} -> ${m.brtype !== undefined ? `brtype:${m.brtype} ` : ''}lbtype:${m.lbtype}`),
              `Imported ${r.commits} commit${r.commits === 1 ? '' : 's'}: ${r.fileVersions} file versions, ${r.directoryVersions} directory versions, ` +
                `${r.mergeArrows} merge arrows, ${r.labels} labels` +
                (r.mergedLines ? `; ${r.mergedLines} merged line${r.mergedLines === 1 ? '' : 's'} on branch types of their own` : '') +
                '.',
            ].join('\n'),
          );
        } finally {
          line.end();
        }
      });
    });

  pathCommand(program, 'fsimport', 'import files and directory trees into a VOB directory or a snapshot view (as clearfsimport)')
    .option('--recurse', 'import the contents of source directories, all the way down')
    .option('--rmname', 'remove the names of what a source directory no longer holds')
    .option('--identical', 'make a new version even where the content is unchanged')
    .option('--preview', 'report what would be done, and change nothing')
    .option('-c, --comment <text>', 'comment for the new elements and versions', '')
    .addOption(jsonOption())
    .argument(
      '<paths...>',
      'SOURCE... TARGET-DIR (a directory in a snapshot view, or with --vob/--config a VOB path; a SOURCE ending in /. brings its contents into TARGET-DIR)',
    )
    .action((paths, _o, c) => {
      const opts = c.optsWithGlobals();
      if (paths.length < 2) throw new UsageError('fsimport needs at least one SOURCE and a TARGET-DIR');
      const target = paths[paths.length - 1]!;
      const sources = paths
        .slice(0, -1)
        .map((p) => (p.endsWith('/.') || p === '.' ? `${inputPath(io, p.slice(0, -1) || '.')}/.` : inputPath(io, p)));
      const options = {
        recurse: opts.recurse,
        rmname: opts.rmname,
        identical: opts.identical,
        preview: opts.preview,
        comment: opts.comment,
        warn: (m: string) => io.err(`msite: warning: ${m}\n`),
      };
      // TARGET-DIR in a snapshot view (and neither --vob nor --config asking for the VOB itself): the
      // view's VOB and config spec, as clearfsimport, and the view updated afterwards.
      const root = opts.vob === undefined && opts.config === undefined ? findViewRoot(inputPath(io, target)) : undefined;
      if (root !== undefined) {
        return withView(root, {}, async (view) => {
          const r = await fsImportInView(view, sources, inputPath(io, target), options);
          emit(io, opts, r, () => {
            const u = r.update;
            const notes = u ? u.entries.filter((e) => e.action !== 'load' && e.action !== 'mkdir').map(describeEntry) : [];
            const loaded = u ? u.entries.filter((e) => e.action === 'load' || e.action === 'overwrite').length : 0;
            return [
              fsImportText(r),
              ...notes,
              ...(u ? [`Updated view "${r.view}": ${loaded} loaded, ${u.unchanged} unchanged.${u.log ? ` Log: ${u.log}` : ''}`] : []),
            ].join('\n');
          });
        });
      }
      withVob(io, opts, (vob) => {
        const r = fsImport(vob, sources, target, { ...options, config: configSpec(io, opts) });
        emit(io, opts, r, () => fsImportText(r));
      });
    });
}

/** What fsimport did (or, previewing, would do), a line for each change and a summary. */
function fsImportText(r: FsImportResult): string {
  const would = r.preview ? 'Would create' : 'Created';
  return [
    ...r.entries
      .filter((e) => e.action !== 'unchanged')
      .map((e) =>
        e.action === 'removed name'
          ? `${r.preview ? 'Would remove' : 'Removed'} name "${e.path}".`
          : `${would} ${e.action === 'new element' ? `${e.kind} element` : 'a new version of'} "${e.path}".`,
      ),
    `${r.preview ? 'Preview: ' : ''}${r.newElements} new elements, ${r.newVersions} new versions, ${r.removedNames} names removed, ${r.unchanged} unchanged.`,
  ].join('\n');
}
