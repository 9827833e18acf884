import { Option, type Command } from '@commander-js/extra-typings';
import { createRegisteredVob } from '../../site/createRegisteredVob.js';
import { listVobs } from '../../site/listVobs.js';
import { NAME_POLICIES } from '../../vob/nameConflicts.js';
import { replicaName } from '../../vob/queries.js';
import { columns, emit, inputPath, jsonOption, siteCommand, siteHome, type Io } from '../context.js';

/** `mkvob` and `lsvob`: VOB families and the site's registry of tags. */
export function registerVobCommands(program: Command, io: Io): void {
  siteCommand(program, 'mkvob', 'create a VOB family with its first replica and register it under a tag')
    .requiredOption('--tag <tag>', 'the VOB tag, e.g. /vobs/dev')
    .option('--replica <name>', 'name of the first replica', 'original')
    .option('--host <host>', 'host the replica lives on (default this machine)')
    .addOption(
      new Option('--name-policy <policy>', 'how imports settle two objects with one name').choices(NAME_POLICIES).default('rename'),
    )
    .addOption(jsonOption())
    .argument('<storage-dir>', 'new, empty directory for the VOB')
    .action((dir, _o, cmd) => {
      const opts = cmd.optsWithGlobals();
      const vob = createRegisteredVob(siteHome(io, opts), inputPath(io, dir), {
        tag: opts.tag,
        replicaName: opts.replica,
        host: opts.host,
        namePolicy: opts.namePolicy,
      });
      try {
        emit(
          io,
          opts,
          { tag: opts.tag, path: vob.dir, family: vob.family, replica: replicaName(vob, vob.self) },
          () => `Created VOB "${opts.tag}" at ${vob.dir}\nReplica "${replicaName(vob, vob.self)}" of VOB family ${vob.family}.`,
        );
      } finally {
        vob.close();
      }
    });

  siteCommand(program, 'lsvob', 'list the VOBs registered in the site home')
    .addOption(jsonOption())
    .action((_o, cmd) => {
      const opts = cmd.optsWithGlobals();
      const rows = listVobs(siteHome(io, opts));
      emit(io, opts, rows, () =>
        columns(
          rows.map((r) => [r.tag, r.path, r.state === 'creating' ? '(being created)' : (r.replica ?? '(unreadable)'), r.family ?? '']),
        ),
      );
    });
}
