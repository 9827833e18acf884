import { Option, type Command } from '@commander-js/extra-typings';
import { UsageError } from '../../core/errors.js';
import { lock, lstype, mktype, rename, rmtype, unlock } from '../../vob/commands/types.js';
import { isTypeKind, TYPE_KINDS, VALUE_TYPES, type TypeKind, type ValueType } from '../../vob/rows.js';
import { columns, emit, jsonOption, vobCommand, readVob, withVob, type CommonOptions, type Io } from '../context.js';

const TYPE_WORDS: Record<string, string> = {
  lbtype: 'label type',
  brtype: 'branch type',
  attype: 'attribute type',
  hltype: 'hyperlink type',
};

type MadeKind = 'lbtype' | 'brtype' | 'attype' | 'hltype';

/** What the `mk*type` commands take. */
interface MktypeOptions extends CommonOptions {
  shared?: boolean;
  comment: string;
  vtype?: ValueType;
  pbranch?: boolean;
}

/** `mk*type`, `lstype`, `rename`, `rmtype`, `lock`, `unlock`. */
export function registerTypeCommands(program: Command, io: Io): void {
  const mktypeCommand = (kind: MadeKind) =>
    vobCommand(program, `mk${kind}`, `create ${TYPE_WORDS[kind]}s`)
      .option('--shared', 'instances may be made at any replica that masters the annotated object')
      .option('-c, --comment <text>', 'comment', '')
      .argument('<names...>');
  const makeTypes = (kind: MadeKind, names: string[], opts: MktypeOptions): void =>
    withVob(io, opts, (vob) => {
      mktype(vob, kind, names, opts);
      emit(io, opts, null, () => names.map((n) => `Created ${TYPE_WORDS[kind]} "${n}".`).join('\n'));
    });
  for (const kind of ['lbtype', 'hltype'] as const) {
    mktypeCommand(kind).action((names, _o, c) => makeTypes(kind, names, c.optsWithGlobals()));
  }
  mktypeCommand('brtype')
    .option('--pbranch', 'allow one branch of this type per parent branch')
    .action((names, _o, c) => makeTypes('brtype', names, c.optsWithGlobals()));
  mktypeCommand('attype')
    .addOption(new Option('--vtype <type>', 'value type').choices(VALUE_TYPES).default('string'))
    .action((names, _o, c) => makeTypes('attype', names, c.optsWithGlobals()));

  vobCommand(program, 'lstype', 'list type objects of one kind')
    .requiredOption('--kind <kind>', `one of ${TYPE_KINDS.join(', ')}`)
    .option('--obsolete', 'include obsolete types')
    .addOption(jsonOption())
    .action((_o, c) => {
      const opts = c.optsWithGlobals();
      if (!isTypeKind(opts.kind)) throw new UsageError(`bad --kind "${opts.kind}": use one of ${TYPE_KINDS.join(', ')}`);
      const kind: TypeKind = opts.kind;
      readVob(io, opts, (vob) => {
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

  vobCommand(program, 'rename', 'rename a type or replica object (at its master; replicates by OID)')
    .argument('<selector>', 'lbtype:NAME, brtype:NAME, attype:NAME, hltype:NAME or replica:NAME')
    .argument('<new-name>')
    .action((selector, newName, _o, c) => {
      const opts = c.optsWithGlobals();
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

  vobCommand(program, 'rmtype', 'remove type objects (at their master)')
    .option('--rmall', 'also remove the labels, attributes or hyperlinks of the type')
    .argument('<selectors...>')
    .action((selectors, _o, c) => {
      const opts = c.optsWithGlobals();
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
    vobCommand(program, verb, `${verb} type or replica objects`)
      .argument('<selectors...>')
      .option(
        '--obsolete',
        verb === 'lock'
          ? 'lock as obsolete: hidden from listings, and the lock replicates'
          : 'accepted for symmetry; unlock lifts either lock',
      )
      .action((selectors, _o, c) => {
        const opts = c.optsWithGlobals();
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
