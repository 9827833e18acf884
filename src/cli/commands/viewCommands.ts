import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Command } from '@commander-js/extra-typings';
import { UsageError } from '../../core/errors.js';
import { listViews, makeView, removeView, viewRootFor } from '../../site/viewRegistry.js';
import { diffPred } from '../../view/diffPred.js';
import { NotAViewError } from '../../view/notAViewError.js';
import { setcs } from '../../view/setcs.js';
import { describeEntry, updateView, type UpdateResult } from '../../view/updateView.js';
import { withView, type View } from '../../view/view.js';
import { mvInView, rmnameInView } from '../../view/viewElements.js';
import { lsco, lsPrivate } from '../../view/viewListing.js';
import { runEditor } from '../editor.js';
import {
  columns,
  emit,
  inputPath,
  jsonOption,
  readInputFile,
  siteCommand,
  siteHome,
  vobCommand,
  type CommonOptions,
  type Io,
} from '../context.js';

/** The options of a command that works in a view. */
export interface ViewOptions extends CommonOptions {
  view?: string;
}

/** A subcommand that works in a snapshot view: the one `--view TAG|DIR` names, else the working directory's. */
export function viewCommand<N extends string>(program: Command, name: N, description: string) {
  return siteCommand(program, name, description).option(
    '--view <view>',
    'view tag or a directory in the view (default: the working directory)',
  );
}

/**
 * The root of the view a command works in: `--view`'s, else the working directory's when it is in a
 * view and neither `--vob` nor `--config` asks for the VOB itself. Undefined: outside views.
 */
export function viewRoot(io: Io, opts: ViewOptions): string | undefined {
  if (opts.view === undefined && (opts.vob !== undefined || opts.config !== undefined)) return undefined;
  return viewRootFor(siteHome(io, opts), opts.view, io.cwd);
}

/** Runs `fn` in the view the command works in (see viewRoot); refuses outside one. */
export function inView<T>(io: Io, opts: ViewOptions, fn: (view: View) => T, options: { readonly?: boolean } = {}): T {
  const root = viewRoot(io, opts);
  if (root === undefined) throw new NotAViewError(io.cwd);
  return withView(root, options, fn);
}

/** A path named on the command line, in the view: relative ones are taken from the working directory, or the view's root when --view names it. */
export function viewPath(io: Io, opts: ViewOptions, view: View, path: string): string {
  if (opts.view !== undefined && !inputPath(io, '.').startsWith(view.root)) return join(view.root, path);
  return inputPath(io, path);
}

function updateText(r: UpdateResult): string {
  const loaded = r.entries.filter((e) => e.action === 'load' || e.action === 'overwrite').length;
  const lines = r.entries.map(describeEntry);
  lines.push(`${loaded} loaded, ${r.unchanged} unchanged.${r.log ? ` Log: ${r.log}` : ''}`);
  return lines.join('\n');
}

/** Snapshot views: mkview, lsview, rmview, the config spec, update, and the in-view listings and name changes. */
export function registerViewCommands(program: Command, io: Io): void {
  vobCommand(program, 'mkview', 'make a snapshot view of a VOB and load it')
    .option('--snapshot', 'a snapshot view (the only kind)')
    .requiredOption('--tag <tag>', 'the view tag')
    .addOption(jsonOption())
    .argument('<dir>', 'the view directory (new, or empty)')
    .action(async (dir, _o, c) => {
      const opts = c.optsWithGlobals();
      const home = siteHome(io, opts);
      const vobDir = home.resolveVob(opts.vob ?? io.env.MSITE_VOB, io.cwd);
      const r = await makeView(home, { tag: opts.tag, vobDir, dir: inputPath(io, dir) });
      emit(io, opts, { ...r.view, update: r.update }, () => `Created view "${r.view.tag}" at ${r.view.path}.\n${updateText(r.update)}`);
    });

  siteCommand(program, 'lsview', "list the site's snapshot views")
    .addOption(jsonOption())
    .action((_o, c) => {
      const opts = c.optsWithGlobals();
      const rows = listViews(siteHome(io, opts));
      emit(io, opts, rows, () => columns(rows.map((r) => [r.tag, r.status === 'ok' ? r.path : `${r.path}  [${r.status}]`])));
    });

  siteCommand(program, 'rmview', 'remove a snapshot view: its directory and its registration')
    .option('--force', "cancel the view's checkouts instead of refusing")
    .argument('<view>', 'view tag or directory')
    .action((view, _o, c) => {
      const opts = c.optsWithGlobals();
      const r = removeView(siteHome(io, opts), view, io.cwd, { force: opts.force });
      emit(io, opts, r, () => `Removed view "${r.tag}" (${r.path})${r.cancelled ? `, cancelling ${r.cancelled} checkout(s)` : ''}.`);
    });

  viewCommand(program, 'catcs', "print the view's config spec").action((_o, c) => {
    const opts = c.optsWithGlobals();
    inView(io, opts, (view) => io.out(view.configSpecText()), { readonly: true });
  });

  viewCommand(program, 'setcs', "set the view's config spec from a file, and update the view")
    .addOption(jsonOption())
    .argument('<file>')
    .action((file, _o, c) => {
      const opts = c.optsWithGlobals();
      const text = readInputFile(io, file, 'config spec').toString('utf8');
      return inView(io, opts, async (view) => {
        const r = await setcs(view, text, file, dirname(inputPath(io, file)));
        emit(io, opts, r, () => `Set the config spec of view "${view.tag}".\n${updateText(r)}`);
      });
    });

  viewCommand(program, 'edcs', "edit the view's config spec in $EDITOR, then set it and update the view")
    .addOption(jsonOption())
    .action((_o, c) => {
      const opts = c.optsWithGlobals();
      return inView(io, opts, async (view) => {
        const dir = mkdtempSync(join(tmpdir(), 'msite-edcs-'));
        try {
          const file = join(dir, 'config_spec');
          const before = view.configSpecText();
          writeFileSync(file, before);
          runEditor(io, file);
          const text = readFileSync(file, 'utf8');
          if (text === before) {
            io.err('msite edcs: no change\n');
            return;
          }
          const r = await setcs(view, text, `edited config spec of view "${view.tag}"`, view.meta('config_base') ?? view.root);
          emit(io, opts, r, () => `Set the config spec of view "${view.tag}".\n${updateText(r)}`);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      });
    });

  viewCommand(program, 'update', 'load the view to match its config spec')
    .option('--print', 'say what would change, changing nothing')
    .option('--overwrite', 'replace hijacked files, keeping each as NAME.keep')
    .addOption(jsonOption())
    .argument('[paths...]', 'update only these (default: the whole view)')
    .action((paths, _o, c) => {
      const opts = c.optsWithGlobals();
      return inView(io, opts, async (view) => {
        const r = await updateView(view, {
          print: opts.print,
          overwrite: opts.overwrite,
          paths: paths.map((p) => viewPath(io, opts, view, p)),
        });
        emit(io, opts, r, () => updateText(r));
      });
    });

  viewCommand(program, 'lsco', 'list checkouts (default: of elements at or below the working directory)')
    .option('--me', "only this view's")
    .option('--all', 'in the whole VOB')
    .addOption(jsonOption())
    .argument('[path]')
    .action((path, _o, c) => {
      const opts = c.optsWithGlobals();
      inView(
        io,
        opts,
        (view) => {
          const rows = lsco(view, viewPath(io, opts, view, path ?? '.'), { me: opts.me, all: opts.all });
          emit(io, opts, rows, () =>
            columns(
              rows.map((r) => [
                r.path,
                `checkout version "${r.version}" (${r.reserved ? 'reserved' : 'unreserved'})`,
                r.view ? `view "${r.view}"` : `replica "${r.replica}"`,
              ]),
            ),
          );
        },
        { readonly: true },
      );
    });

  viewCommand(program, 'lsprivate', 'list view-private files and directories (what update did not load)')
    .addOption(jsonOption())
    .argument('[path]')
    .action((path, _o, c) => {
      const opts = c.optsWithGlobals();
      inView(
        io,
        opts,
        (view) => {
          const rows = lsPrivate(view, viewPath(io, opts, view, path ?? '.'));
          emit(io, opts, rows, () => rows.join('\n'));
        },
        { readonly: true },
      );
    });

  viewCommand(program, 'diff', "compare a view's file with its predecessor version")
    .option('--pred', 'against the predecessor (the only comparison offered)')
    .argument('<path>')
    .action((path, _o, c) => {
      const opts = c.optsWithGlobals();
      if (!opts.pred) throw new UsageError('diff needs --pred');
      inView(
        io,
        opts,
        (view) => {
          const r = diffPred(view, viewPath(io, opts, view, path));
          io.out(r.diff === '' ? `Files are identical.\n` : r.diff);
        },
        { readonly: true },
      );
    });

  viewCommand(program, 'rmname', 'remove a name from its (checked-out) directory')
    .argument('<path>')
    .action((path, _o, c) => {
      const opts = c.optsWithGlobals();
      inView(io, opts, (view) => {
        const r = rmnameInView(view, viewPath(io, opts, view, path));
        emit(io, opts, r, () => `Removed "${r.path}".`);
      });
    });

  viewCommand(program, 'mv', 'move an element to a new name (its directories checked out)')
    .argument('<from>')
    .argument('<to>')
    .action((from, to, _o, c) => {
      const opts = c.optsWithGlobals();
      inView(io, opts, (view) => {
        const r = mvInView(view, viewPath(io, opts, view, from), viewPath(io, opts, view, to));
        emit(io, opts, r, () => `Moved "${r.from}" to "${r.to}".`);
      });
    });
}
