import type { Command } from '@commander-js/extra-typings';
import { gitImport } from '../../history/gitImport.js';
import { progressLine } from '../progressLine.js';
import { emit, inputPath, jsonOption, vobCommand, withVob, type Io } from '../context.js';

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
}
