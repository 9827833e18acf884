import { Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import { parseDateTime } from '../../core/parseDateTime.js';
import { checkin, checkout, mkbranch, uncheckout } from '../../vob/commands/checkouts.js';
import { chmaster, chmasterAll, chmasterDefault } from '../../vob/commands/chmaster.js';
import { describe } from '../../vob/commands/describe.js';
import { mkelem } from '../../vob/commands/elements.js';
import { lshistory } from '../../vob/commands/history.js';
import { cat, ls, lsvtree } from '../../vob/commands/listing.js';
import { mkattr, mkhlink, mklabel, rmlabel } from '../../vob/commands/annotations.js';
import { columns, commonOptions, configSpec, emit, readInputFile, vobCommand, withVob, type CommonOptions, type Io } from '../context.js';

type Opts<T> = CommonOptions & T;

/** Commands on elements, versions, labels, attributes and hyperlinks, and their listings. */
export function registerObjectCommands(program: Command, io: Io): void {
  for (const kind of ['mkdir', 'mkelem'] as const) {
    const cmd = vobCommand(program, kind, kind === 'mkdir' ? 'create a directory element' : 'create a file element', { paths: true })
      .option('-c, --comment <text>', 'comment', '')
      .option('--auto', 'check the parent directory out and back in around the creation')
      .option('--master', 'make this replica master of the new main branch')
      .argument('<path>');
    if (kind === 'mkelem') cmd.option('--from <file>', 'contents for version /main/1').option('--eltype <name>', 'element type');
    cmd.action((path: string, _o, c: Command) => {
      const opts = commonOptions(c) as Opts<{ comment: string; auto?: boolean; master?: boolean; from?: string; eltype?: string }>;
      const content = opts.from !== undefined ? readInputFile(io, opts.from, '--from file') : undefined;
      withVob(io, opts, (vob) => {
        const r = mkelem(vob, path, { ...opts, kind: kind === 'mkdir' ? 'directory' : 'file', content, config: configSpec(io, opts) });
        emit(io, opts, { path: r.path, oid: r.element }, () => `Created ${kind === 'mkdir' ? 'directory' : 'file'} element "${r.path}".`);
      });
    });
  }

  vobCommand(program, 'checkout', 'check out the branch a path selects', { paths: true })
    .alias('co')
    .option('--unreserved', 'do not stop others from checking in first')
    .option('--nmaster', 'allow an unreserved checkout where this replica is not the branch master')
    .option('-c, --comment <text>', 'comment', '')
    .argument('<path>')
    .action((path: string, _o, c: Command) => {
      const opts = commonOptions(c) as Opts<{ unreserved?: boolean; nmaster?: boolean; comment: string }>;
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

  vobCommand(program, 'checkin', 'check in a checkout as a new version', { paths: true })
    .alias('ci')
    .option('--from <file>', 'contents of the new version (default: unchanged)')
    .option('-c, --comment <text>', 'comment')
    .argument('<path>')
    .action((path: string, _o, c: Command) => {
      const opts = commonOptions(c) as Opts<{ from?: string; comment?: string }>;
      const content = opts.from !== undefined ? readInputFile(io, opts.from, '--from file') : undefined;
      withVob(io, opts, (vob) => {
        const r = checkin(vob, path, { content, comment: opts.comment, config: configSpec(io, opts) });
        emit(io, opts, r, () => `Checked in "${r.path}" version "${r.version}".`);
      });
    });

  vobCommand(program, 'uncheckout', 'cancel a checkout', { paths: true })
    .alias('unco')
    .argument('<path>')
    .action((path: string, _o, c: Command) => {
      const opts = commonOptions(c);
      withVob(io, opts, (vob) => {
        uncheckout(vob, path, { config: configSpec(io, opts) });
        emit(io, opts, null, () => `Checkout of "${path}" cancelled.`);
      });
    });

  vobCommand(program, 'mkbranch', 'create a branch at the version the config selects', { paths: true })
    .option('-c, --comment <text>', 'comment', '')
    .argument('<brtype>')
    .argument('<path>')
    .action((brtype: string, path: string, _o, c: Command) => {
      const opts = commonOptions(c) as Opts<{ comment: string }>;
      withVob(io, opts, (vob) => {
        const r = mkbranch(vob, brtype.replace(/^brtype:/, ''), path, { comment: opts.comment, config: configSpec(io, opts) });
        emit(io, opts, r, () => `Created branch "${r.branch}" of "${path}".`);
      });
    });

  vobCommand(program, 'mklabel', 'attach a label to the version each path selects', { paths: true })
    .option('--replace', 'move the label if it is on another version of the element')
    .argument('<lbtype>')
    .argument('<paths...>')
    .action((lbtype: string, paths: string[], _o, c: Command) => {
      const opts = commonOptions(c) as Opts<{ replace?: boolean }>;
      withVob(io, opts, (vob) => {
        mklabel(vob, lbtype, paths, { replace: opts.replace, config: configSpec(io, opts) });
        emit(io, opts, null, () => paths.map((p) => `Created label "${lbtype}" on "${p}".`).join('\n'));
      });
    });

  vobCommand(program, 'rmlabel', 'remove a label from the version each path selects', { paths: true })
    .argument('<lbtype>')
    .argument('<paths...>')
    .action((lbtype: string, paths: string[], _o, c: Command) => {
      const opts = commonOptions(c);
      withVob(io, opts, (vob) => {
        rmlabel(vob, lbtype, paths, { config: configSpec(io, opts) });
        emit(io, opts, null, () => paths.map((p) => `Removed label "${lbtype}" from "${p}".`).join('\n'));
      });
    });

  vobCommand(program, 'mkattr', 'attach an attribute to an object', { paths: true })
    .option('--replace', 'change the value if the object has one')
    .argument('<attype>')
    .argument('<value>')
    .argument('<object>')
    .action((attype: string, value: string, object: string, _o, c: Command) => {
      const opts = commonOptions(c) as Opts<{ replace?: boolean }>;
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

  vobCommand(program, 'mkhlink', 'create a hyperlink between two objects', { paths: true })
    .argument('<hltype>')
    .argument('<from>')
    .argument('<to>')
    .action((hltype: string, from: string, to: string, _o, c: Command) => {
      const opts = commonOptions(c);
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

  vobCommand(program, 'ls', 'list a directory as the config spec shows it', { paths: true })
    .option('--json', 'print the result as JSON')
    .argument('[dir]', 'directory path', '.')
    .action((dir: string, _o, c: Command) => {
      const opts = commonOptions(c);
      withVob(io, opts, (vob) => {
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

  vobCommand(program, 'cat', 'print the exact bytes of a file version', { paths: true })
    .argument('<version-path>')
    .action((path: string, _o, c: Command) => {
      const opts = commonOptions(c);
      withVob(io, opts, (vob) => io.out(cat(vob, path, configSpec(io, opts))));
    });

  vobCommand(program, 'lsvtree', "list an element's versions, branch by branch, with their labels", { paths: true })
    .option('--json', 'print the result as JSON')
    .argument('<path>')
    .action((path: string, _o, c: Command) => {
      const opts = commonOptions(c);
      withVob(io, opts, (vob) => {
        const rows = lsvtree(vob, path, configSpec(io, opts));
        emit(io, opts, rows, () => rows.map((r) => `${r.version}${r.labels.length ? ` (${r.labels.join(', ')})` : ''}`).join('\n'));
      });
    });

  vobCommand(program, 'describe', 'describe an object: a type, replica, element, branch or version', { paths: true })
    .option('--json', 'print the result as JSON')
    .argument('<object>')
    .action((object: string, _o, c: Command) => {
      const opts = commonOptions(c);
      withVob(
        io,
        opts,
        (vob) => {
          const d = describe(vob, object, configSpec(io, opts));
          emit(io, opts, d, () =>
            Object.entries(d)
              .filter(
                ([, v]) =>
                  v !== null &&
                  v !== '' &&
                  !(Array.isArray(v) && v.length === 0) &&
                  !(typeof v === 'object' && !Array.isArray(v) && v !== null && Object.keys(v).length === 0),
              )
              .map(([k, v]) => `  ${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
              .join('\n'),
          );
        },
        [object],
      );
    });

  vobCommand(program, 'lshistory', 'the history of changes from the oplog, with export and import records', { paths: true })
    .option('--since <time>', 'only changes at or after this time')
    .option('--json', 'print the result as JSON')
    .action((_o, c: Command) => {
      const opts = commonOptions(c) as Opts<{ since?: string }>;
      const since = opts.since !== undefined ? parseDateTime(opts.since, '--since time') : undefined;
      withVob(io, opts, (vob) => {
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

  vobCommand(program, 'chmaster', 'give mastership of objects to another replica (run at the current master)', { paths: true })
    .option('--default', 'return branches to default mastership (they follow their branch type)')
    .option('--all', 'with --obsolete-replica: everything the obsolete replica masters')
    .option('--obsolete-replica <replica>', 'with --all: the retired or dead replica to take over from (run at the new master)')
    .argument('<args...>', 'MASTER-REPLICA OBJECT..., or with --default BRANCH..., or with --all MASTER-REPLICA')
    .action((args: string[], _o, c: Command) => {
      const opts = commonOptions(c) as Opts<{ default?: boolean; all?: boolean; obsoleteReplica?: string }>;
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
