import { Command, Option } from 'commander';
import { UsageError } from '../../core/errors.js';
import { lock, lstype, mktype, rename, rmtype, unlock } from '../../vob/commands/types.js';
import { isTypeKind, TYPE_KINDS, VALUE_TYPES, type TypeKind, type ValueType } from '../../vob/rows.js';
import { columns, commonOptions, emit, withVob, type Io } from '../context.js';

const TYPE_WORDS: Record<string, string> = {
  lbtype: 'label type',
  brtype: 'branch type',
  attype: 'attribute type',
  hltype: 'hyperlink type',
};

/** `mk*type`, `lstype`, `rename`, `rmtype`, `lock`, `unlock`. */
export function registerTypeCommands(program: Command, io: Io): void {
  for (const kind of ['lbtype', 'brtype', 'attype', 'hltype'] as const) {
    const cmd = program
      .command(`mk${kind}`)
      .description(`create ${TYPE_WORDS[kind]}s`)
      .option('--shared', 'instances may be made at any replica that masters the annotated object')
      .option('-c, --comment <text>', 'comment', '')
      .option('--vob <vob>', 'VOB tag or storage directory')
      .argument('<names...>');
    if (kind === 'attype') cmd.addOption(new Option('--vtype <type>', 'value type').choices([...VALUE_TYPES]).default('string'));
    if (kind === 'brtype') cmd.option('--pbranch', 'allow one branch of this type per parent branch');
    cmd.action((names: string[], _o, c: Command) => {
      const opts = commonOptions(c) as ReturnType<typeof commonOptions> & {
        shared?: boolean;
        comment: string;
        vtype?: ValueType;
        pbranch?: boolean;
      };
      withVob(io, opts, (vob) => {
        mktype(vob, kind, names, opts);
        emit(io, opts, null, () => names.map((n) => `Created ${TYPE_WORDS[kind]} "${n}".`).join('\n'));
      });
    });
  }

  program
    .command('lstype')
    .description('list type objects of one kind')
    .requiredOption('--kind <kind>', `one of ${TYPE_KINDS.join(', ')}`)
    .option('--obsolete', 'include obsolete types')
    .option('--json', 'print the result as JSON')
    .option('--vob <vob>', 'VOB tag or storage directory')
    .action((_o, c: Command) => {
      const opts = commonOptions(c) as ReturnType<typeof commonOptions> & { kind: string; obsolete?: boolean };
      if (!isTypeKind(opts.kind)) throw new UsageError(`bad --kind "${opts.kind}": use one of ${TYPE_KINDS.join(', ')}`);
      const kind: TypeKind = opts.kind;
      withVob(io, opts, (vob) => {
        const rows = lstype(vob, kind, opts);
        emit(io, opts, rows, () =>
          columns(
            rows.map((t) => [
              `${t.kind}:${t.name}`,
              `master ${t.master}`,
              [t.shared ? 'shared' : '', t.locked ?? ''].filter(Boolean).join(' '),
              t.comment ? `"${t.comment}"` : '',
            ]),
          ),
        );
      });
    });

  program
    .command('rename')
    .description('rename a type or replica object (at its master; replicates by OID)')
    .option('--vob <vob>', 'VOB tag or storage directory')
    .argument('<selector>', 'lbtype:NAME, brtype:NAME, attype:NAME, hltype:NAME or replica:NAME')
    .argument('<new-name>')
    .action((selector: string, newName: string, _o, c: Command) => {
      const opts = commonOptions(c);
      withVob(
        io,
        opts,
        (vob) => {
          rename(vob, selector, newName);
          emit(io, opts, null, () => `Renamed ${selector} to "${newName}".`);
        },
        [selector],
      );
    });

  program
    .command('rmtype')
    .description('remove type objects (at their master)')
    .option('--rmall', 'also remove the labels, attributes or hyperlinks of the type')
    .option('--vob <vob>', 'VOB tag or storage directory')
    .argument('<selectors...>')
    .action((selectors: string[], _o, c: Command) => {
      const opts = commonOptions(c) as ReturnType<typeof commonOptions> & { rmall?: boolean };
      withVob(
        io,
        opts,
        (vob) => {
          rmtype(vob, selectors, opts);
          emit(io, opts, null, () => selectors.map((s) => `Removed ${s}.`).join('\n'));
        },
        selectors,
      );
    });

  for (const verb of ['lock', 'unlock'] as const) {
    const cmd = program
      .command(verb)
      .description(`${verb} type or replica objects`)
      .option('--vob <vob>', 'VOB tag or storage directory')
      .argument('<selectors...>');
    if (verb === 'lock') cmd.option('--obsolete', 'lock as obsolete: hidden from listings, and the lock replicates');
    if (verb === 'unlock') cmd.option('--obsolete', 'accepted for symmetry; unlock lifts either lock');
    cmd.action((selectors: string[], _o, c: Command) => {
      const opts = commonOptions(c) as ReturnType<typeof commonOptions> & { obsolete?: boolean };
      withVob(
        io,
        opts,
        (vob) => {
          if (verb === 'lock') lock(vob, selectors, opts);
          else unlock(vob, selectors);
          emit(io, opts, null, () => selectors.map((s) => `${verb === 'lock' ? 'Locked' : 'Unlocked'} ${s}.`).join('\n'));
        },
        selectors,
      );
    });
  }
}
