import type { Command } from '@commander-js/extra-typings';
import { UsageError } from '../../core/errors.js';
import { parseDateTime } from '../../core/parseDateTime.js';
import { checkin, checkout, mkbranch, uncheckout } from '../../vob/commands/checkouts.js';
import { chmaster, chmasterAll, chmasterDefault } from '../../vob/commands/chmaster.js';
import { describe } from '../../vob/commands/describe.js';
import { mkelem } from '../../vob/commands/elements.js';
import { lshistory } from '../../vob/commands/history.js';
import { catChunks, ls, lsvtree } from '../../vob/commands/listing.js';
import { mergeArrowLines, type MergeArrows } from '../../vob/mergeArrows.js';
import { mkattr, mkhlink, mklabel, rmlabel } from '../../vob/commands/annotations.js';
import { withView } from '../../view/view.js';
import { checkinInView, checkoutInView, uncheckoutInView } from '../../view/viewCheckouts.js';
import { mkelemInView } from '../../view/viewElements.js';
import { lsView } from '../../view/viewListing.js';
import { viewPath, viewRoot } from './viewCommands.js';
import {
  columns,
  configSpec,
  emit,
  jsonOption,
  pathCommand,
  readVob,
  stageInputFile,
  withVob,
  type CommonOptions,
  type Io,
} from '../context.js';

/** What `mkdir` and `mkelem` take. */
interface MkelemOptions extends CommonOptions {
  view?: string;
  comment: string;
  auto?: boolean;
  master?: boolean;
  from?: string;
  eltype?: string;
}

/** Commands on elements, versions, labels, attributes and hyperlinks, and their listings. */
export function registerObjectCommands(program: Command, io: Io): void {
  const elementCommand = (kind: 'mkdir' | 'mkelem') =>
    pathCommand(program, kind, kind === 'mkdir' ? 'create a directory element' : 'create a file element')
      .option('-c, --comment <text>', 'comment', '')
      .option('--auto', 'check the parent directory out and back in around the creation')
      .option('--master', 'make this replica master of the new main branch')
      .option('--view <view>', "in this view (tag or directory; default: the working directory's view)")
      .argument('<path>');
  const makeElement = (kind: 'directory' | 'file', path: string, opts: MkelemOptions): Promise<void> => {
    const root = viewRoot(io, opts);
    if (root !== undefined) {
      if (opts.from !== undefined)
        throw new UsageError('in a view, mkelem makes the view-private file an element; --from is for use outside views (--vob)');
      return withView(root, {}, async (view) => {
        const r = await mkelemInView(view, viewPath(io, opts, view, path), { ...opts, kind });
        emit(io, opts, { path: r.path, version: r.version }, () => `Created ${kind} element "${r.path}".`);
      });
    }
    return withVob(io, opts, async (vob) => {
      const config = configSpec(io, opts);
      const content = opts.from !== undefined ? await stageInputFile(io, vob, opts.from, '--from file') : undefined;
      try {
        const r = mkelem(vob, path, { ...opts, kind, content, config });
        emit(io, opts, { path: r.path, oid: r.element }, () => `Created ${kind} element "${r.path}".`);
      } finally {
        content?.discard();
      }
    });
  };
  elementCommand('mkdir').action((path, _o, c) => makeElement('directory', path, c.optsWithGlobals()));
  elementCommand('mkelem')
    .option('--from <file>', 'contents for version /main/1')
    .option('--eltype <name>', 'element type')
    .action((path, _o, c) => makeElement('file', path, c.optsWithGlobals()));

  pathCommand(program, 'checkout', 'check out the branch a path selects')
    .alias('co')
    .option('--unreserved', 'do not stop others from checking in first')
    .option('--nmaster', 'allow an unreserved checkout where this replica is not the branch master')
    .option('-c, --comment <text>', 'comment', '')
    .option('--view <view>', "in this view (tag or directory; default: the working directory's view)")
    .argument('<path>')
    .action((path, _o, c) => {
      const opts = c.optsWithGlobals();
      const root = viewRoot(io, opts);
      if (root !== undefined) {
        return withView(root, {}, async (view) => {
          const r = await checkoutInView(view, viewPath(io, opts, view, path), {
            reserved: !opts.unreserved,
            nmaster: opts.nmaster,
            comment: opts.comment,
          });
          emit(
            io,
            opts,
            r,
            () =>
              `Checked out "${r.path}" from version "${r.version}".${r.keptHijack ? ' The hijacked file is kept as the checkout.' : ''}`,
          );
        });
      }
      withVob(io, opts, (vob) => {
        const r = checkout(vob, path, {
          reserved: !opts.unreserved,
          nmaster: opts.nmaster,
          comment: opts.comment,
          config: configSpec(io, opts),
        });
        emit(io, opts, r, () => `Checked out "${path}" on branch "${r.branch}".`);
      });
    });

  pathCommand(program, 'checkin', 'check in a checkout as a new version')
    .alias('ci')
    .option('--from <file>', 'contents of the new version (default: unchanged)')
    .option('-c, --comment <text>', 'comment')
    .option('--identical', 'check in even if the file is identical to its predecessor (in a view)')
    .option('--view <view>', "in this view (tag or directory; default: the working directory's view)")
    .argument('<path>')
    .action((path, _o, c) => {
      const opts = c.optsWithGlobals();
      const root = viewRoot(io, opts);
      if (root !== undefined) {
        if (opts.from !== undefined)
          throw new UsageError("in a view, checkin takes the view's file; --from is for use outside views (--vob)");
        return withView(root, {}, async (view) => {
          const r = await checkinInView(view, viewPath(io, opts, view, path), { comment: opts.comment, identical: opts.identical });
          emit(io, opts, r, () => `Checked in "${r.path}" version "${r.version}".`);
        });
      }
      return withVob(io, opts, async (vob) => {
        const config = configSpec(io, opts);
        const content = opts.from !== undefined ? await stageInputFile(io, vob, opts.from, '--from file') : undefined;
        try {
          const r = checkin(vob, path, { content, comment: opts.comment, config });
          emit(io, opts, r, () => `Checked in "${r.path}" version "${r.version}".`);
        } finally {
          content?.discard();
        }
      });
    });

  pathCommand(program, 'uncheckout', 'cancel a checkout')
    .alias('unco')
    .option('--keep', 'in a view: keep the checked-out file as NAME.keep')
    .option('--view <view>', "in this view (tag or directory; default: the working directory's view)")
    .argument('<path>')
    .action((path, _o, c) => {
      const opts = c.optsWithGlobals();
      const root = viewRoot(io, opts);
      if (root !== undefined) {
        return withView(root, {}, async (view) => {
          const r = await uncheckoutInView(view, viewPath(io, opts, view, path), { keep: opts.keep });
          emit(
            io,
            opts,
            r,
            () => `Checkout of "${r.path}" cancelled.${r.kept ? ` Private version of "${r.path}" saved in "${r.kept}".` : ''}`,
          );
        });
      }
      withVob(io, opts, (vob) => {
        uncheckout(vob, path, { config: configSpec(io, opts) });
        emit(io, opts, null, () => `Checkout of "${path}" cancelled.`);
      });
    });

  pathCommand(program, 'mkbranch', 'create a branch at the version the config selects')
    .option('-c, --comment <text>', 'comment', '')
    .argument('<brtype>')
    .argument('<path>')
    .action((brtype, path, _o, c) => {
      const opts = c.optsWithGlobals();
      withVob(io, opts, (vob) => {
        const r = mkbranch(vob, brtype.replace(/^brtype:/, ''), path, { comment: opts.comment, config: configSpec(io, opts) });
        emit(io, opts, r, () => `Created branch "${r.branch}" of "${path}".`);
      });
    });

  pathCommand(program, 'mklabel', 'attach a label to the version each path selects')
    .option('--replace', 'move the label if it is on another version of the element')
    .argument('<lbtype>')
    .argument('<paths...>')
    .action((lbtype, paths, _o, c) => {
      const opts = c.optsWithGlobals();
      withVob(io, opts, (vob) => {
        mklabel(vob, lbtype, paths, { replace: opts.replace, config: configSpec(io, opts) });
        emit(io, opts, null, () => paths.map((p) => `Created label "${lbtype}" on "${p}".`).join('\n'));
      });
    });

  pathCommand(program, 'rmlabel', 'remove a label from the version each path selects')
    .argument('<lbtype>')
    .argument('<paths...>')
    .action((lbtype, paths, _o, c) => {
      const opts = c.optsWithGlobals();
      withVob(io, opts, (vob) => {
        rmlabel(vob, lbtype, paths, { config: configSpec(io, opts) });
        emit(io, opts, null, () => paths.map((p) => `Removed label "${lbtype}" from "${p}".`).join('\n'));
      });
    });

  pathCommand(program, 'mkattr', 'attach an attribute to an object')
    .option('--replace', 'change the value if the object has one')
    .argument('<attype>')
    .argument('<value>')
    .argument('<object>')
    .action((attype, value, object, _o, c) => {
      const opts = c.optsWithGlobals();
      withVob(
        io,
        opts,
        (vob) => {
          mkattr(vob, attype, value, object, { replace: opts.replace, config: configSpec(io, opts) });
          emit(io, opts, null, () => `Created attribute "${attype}" on "${object}".`);
        },
        [object],
      );
    });

  pathCommand(program, 'mkhlink', 'create a hyperlink between two objects')
    .argument('<hltype>')
    .argument('<from>')
    .argument('<to>')
    .action((hltype, from, to, _o, c) => {
      const opts = c.optsWithGlobals();
      withVob(
        io,
        opts,
        (vob) => {
          const oid = mkhlink(vob, hltype, from, to, { config: configSpec(io, opts) });
          emit(io, opts, { oid }, () => `Created hyperlink "${hltype}" from "${from}" to "${to}".`);
        },
        [from, to],
      );
    });

  pathCommand(program, 'ls', 'list a directory as the config spec shows it')
    .addOption(jsonOption())
    .option('--view <view>', "in this view (tag or directory; default: the working directory's view)")
    .argument('[dir]', 'directory path', '.')
    .action((dir, _o, c) => {
      const opts = c.optsWithGlobals();
      const root = viewRoot(io, opts);
      if (root !== undefined) {
        return withView(root, { readonly: true }, async (view) => {
          const rows = await lsView(view, viewPath(io, opts, view, dir));
          emit(io, opts, rows, () =>
            columns(
              rows.map((r) =>
                r.viewPrivate
                  ? [r.path, '[view private]']
                  : r.hijacked
                    ? [`${r.path}@@${r.version ?? ''}`, '[hijacked]']
                    : r.checkedOut
                      ? [`${r.path}@@CHECKEDOUT from ${r.version ?? ''}`, 'Rule: CHECKEDOUT']
                      : [`${r.path}@@${r.version ?? ''}`, `Rule: ${r.rule ?? ''}`],
              ),
            ),
          );
        });
      }
      readVob(io, opts, (vob) => {
        const rows = ls(vob, dir, configSpec(io, opts));
        emit(io, opts, rows, () =>
          columns(
            rows.map((r) => [
              `${r.path}@@${r.checkedOut ? 'CHECKEDOUT' : (r.version ?? '')}`,
              r.checkedOut ? `from ${r.version}` : '',
              r.rule ? `Rule: ${r.rule}` : 'no version selected',
            ]),
          ),
        );
      });
    });

  pathCommand(program, 'cat', 'print the exact bytes of a file version')
    .argument('<version-path>')
    .action((path, _o, c) => {
      const opts = c.optsWithGlobals();
      return readVob(io, opts, async (vob) => {
        for await (const chunk of catChunks(vob, path, configSpec(io, opts))) {
          io.out(chunk);
          await io.drained?.();
        }
      });
    });

  pathCommand(program, 'lsvtree', "list an element's versions, branch by branch, with their labels")
    .addOption(jsonOption())
    .argument('<path>')
    .action((path, _o, c) => {
      const opts = c.optsWithGlobals();
      readVob(io, opts, (vob) => {
        const rows = lsvtree(vob, path, configSpec(io, opts));
        emit(io, opts, rows, () =>
          rows
            .flatMap((r) => [
              `${r.version}${r.labels.length ? ` (${r.labels.join(', ')})` : ''}`,
              ...mergeArrowLines(r.merges).map((l) => `  ${l}`),
            ])
            .join('\n'),
        );
      });
    });

  pathCommand(program, 'describe', 'describe an object: a type, replica, element, branch or version')
    .addOption(jsonOption())
    .argument('<object>')
    .action((object, _o, c) => {
      const opts = c.optsWithGlobals();
      readVob(
        io,
        opts,
        (vob) => {
          const d = describe(vob, object, configSpec(io, opts));
          emit(io, opts, d, () =>
            Object.entries(d)
              .filter(([k]) => k !== 'merges')
              .filter(
                ([, v]) =>
                  v !== null &&
                  v !== '' &&
                  !(Array.isArray(v) && v.length === 0) &&
                  !(typeof v === 'object' && !Array.isArray(v) && v !== null && Object.keys(v).length === 0),
              )
              .map(([k, v]) => `  ${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
              .concat(d.merges ? mergeArrowLines(d.merges as MergeArrows).map((l) => `  ${l}`) : [])
              .join('\n'),
          );
        },
        [object],
      );
    });

  pathCommand(program, 'lshistory', 'the history of changes from the oplog, with export and import records')
    .option('--since <time>', 'only changes at or after this time')
    .addOption(jsonOption())
    .action((_o, c) => {
      const opts = c.optsWithGlobals();
      const since = opts.since !== undefined ? parseDateTime(opts.since, '--since time') : undefined;
      readVob(io, opts, (vob) => {
        const rows = lshistory(vob, { since });
        emit(io, opts, rows, () =>
          rows
            .map(
              (r) =>
                `${r.at}  ${r.origin}${r.id !== null ? `#${r.id}` : ''}  ${r.kind}  ${r.summary}${r.discarded ? ` (discarded: ${r.discarded})` : ''}`,
            )
            .join('\n'),
        );
      });
    });

  pathCommand(program, 'chmaster', 'give mastership of objects to another replica (run at the current master)')
    .option('--default', 'return branches to default mastership (they follow their branch type)')
    .option('--all', 'with --obsolete-replica: everything the obsolete replica masters')
    .option('--obsolete-replica <replica>', 'with --all: the retired or dead replica to take over from (run at the new master)')
    .argument('<args...>', 'MASTER-REPLICA OBJECT..., or with --default BRANCH..., or with --all MASTER-REPLICA')
    .action((args, _o, c) => {
      const opts = c.optsWithGlobals();
      withVob(
        io,
        opts,
        (vob) => {
          if (opts.all || opts.obsoleteReplica) {
            if (!opts.all || !opts.obsoleteReplica || args.length !== 1)
              throw new UsageError('use chmaster --all --obsolete-replica OLD MASTER');
            const moved = chmasterAll(vob, opts.obsoleteReplica, args[0]!);
            emit(
              io,
              opts,
              { moved: moved.length },
              () =>
                `Mastership of ${moved.length} object${moved.length === 1 ? '' : 's'} taken over from ${opts.obsoleteReplica} by ${args[0]}.`,
            );
            return;
          }
          if (opts.default) {
            chmasterDefault(vob, args, { config: configSpec(io, opts) });
            emit(io, opts, null, () => args.map((a) => `Mastership of "${a}" returned to its branch type.`).join('\n'));
            return;
          }
          const [master, ...objects] = args;
          if (objects.length === 0) throw new UsageError('chmaster needs MASTER-REPLICA and at least one OBJECT');
          chmaster(vob, master!, objects, { config: configSpec(io, opts) });
          emit(io, opts, null, () => objects.map((o) => `Mastership of "${o}" given to replica "${master}".`).join('\n'));
        },
        args,
      );
    });
}
