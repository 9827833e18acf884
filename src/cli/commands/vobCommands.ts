import { Command, Option } from 'commander';
import { Vob } from '../../vob/vob.js';
import { mkvob } from '../../replication/mkvob.js';
import { NAME_POLICIES, type NamePolicy } from '../../vob/nameConflicts.js';
import { replicaName } from '../../vob/queries.js';
import { columns, commonOptions, emit, inputPath, siteHome, type Io } from '../context.js';

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
    .action((storage: string, _o, cmd: Command) => {
      const dir = inputPath(io, storage);
      const opts = commonOptions(cmd) as ReturnType<typeof commonOptions> & {
        tag: string;
        replica: string;
        host?: string;
        namePolicy: NamePolicy;
      };
      const home = siteHome(io, opts);
      if (home.registry().some((e) => e.tag === opts.tag)) {
        // Refuse before creating anything so a taken tag leaves no storage behind.
        home.register(opts.tag, dir);
      }
      const vob = mkvob(dir, { tag: opts.tag, replicaName: opts.replica, host: opts.host, namePolicy: opts.namePolicy });
      try {
        home.register(opts.tag, vob.dir);
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
      const rows = siteHome(io, opts)
        .registry()
        .map((e) => {
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
      emit(io, opts, rows, () => columns(rows.map((r) => [r.tag, r.path, r.replica ?? '(unreadable)', r.family ?? ''])));
    });
}
