import { Command, Option } from 'commander';
import { Vob } from '../../vob/vob.js';
import { createRegisteredVob } from '../../site/createRegisteredVob.js';
import { NAME_POLICIES, type NamePolicy } from '../../vob/nameConflicts.js';
import { replicaName } from '../../vob/queries.js';
import { columns, commonOptions, emit, siteHome, type Io } from '../context.js';

/** `mkvob` and `lsvob`: VOB families and the site's registry of tags. */
export function registerVobCommands(program: Command, io: Io): void {
  program
    .command('mkvob')
    .description('create a VOB family with its first replica and register it under a tag')
    .requiredOption('--tag <tag>', 'the VOB tag, e.g. /vobs/dev')
    .option('--replica <name>', 'name of the first replica', 'original')
    .option('--host <host>', 'host the replica lives on (default this machine)')
    .addOption(
      new Option('--name-policy <policy>', 'how imports settle two objects with one name').choices([...NAME_POLICIES]).default('rename'),
    )
    .option('--json', 'print the result as JSON')
    .argument('<storage-dir>', 'new, empty directory for the VOB')
    .action((dir: string, _o, cmd: Command) => {
      const opts = commonOptions(cmd) as ReturnType<typeof commonOptions> & {
        tag: string;
        replica: string;
        host?: string;
        namePolicy: NamePolicy;
      };
      const vob = createRegisteredVob(siteHome(opts), dir, {
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

  program
    .command('lsvob')
    .description('list the VOBs registered in the site home')
    .option('--json', 'print the result as JSON')
    .action((_o, cmd: Command) => {
      const opts = commonOptions(cmd);
      const rows = siteHome(opts)
        .registrations()
        .map((e) => {
          // A VOB being created is listed as such, never opened half-made.
          if (e.state === 'creating') return { tag: e.tag, path: e.path, family: null, replica: null, state: e.state };
          try {
            const vob = Vob.open(e.path);
            try {
              return { tag: e.tag, path: e.path, family: vob.family, replica: replicaName(vob, vob.self) };
            } finally {
              vob.close();
            }
          } catch {
            return { tag: e.tag, path: e.path, family: null, replica: null };
          }
        });
      emit(io, opts, rows, () =>
        columns(rows.map((r) => [r.tag, r.path, 'state' in r ? '(being created)' : (r.replica ?? '(unreadable)'), r.family ?? ''])),
      );
    });
}
