import { existsSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AlreadyExistsError, InvalidInputError, NotFoundError, StateError, writingTo } from '../core/errors.js';
import { findViewRoot, View } from '../view/view.js';
import { VIEW_ADMIN_DIR, VIEW_DB_FILE } from '../view/viewDatabase.js';
import { updateView, type UpdateResult } from '../view/updateView.js';
import { uncheckout } from '../vob/commands/checkouts.js';
import type { SiteHome } from './siteHome.js';

export interface ViewRegistration {
  tag: string;
  /** The view's root directory, absolute. */
  path: string;
  /** The VOB's storage directory. */
  vob: string;
  created: number;
}

/** One view as lsview shows it: its registration and whether its directory and VOB are still there. */
export interface ViewListing extends ViewRegistration {
  /** `ok`, `directory gone` (removed by hand) or `VOB gone`. */
  status: 'ok' | 'directory gone' | 'VOB gone';
}

/**
 * Makes a snapshot view: registers `tag` for `dir` (refused when either is taken), creates the view
 * on the VOB in `vobDir` with the default config spec (`load /`: the whole VOB) or `configSpec`, and
 * loads it (an update). A failure before the view exists leaves no registration behind.
 */
export async function makeView(
  home: SiteHome,
  options: { tag: string; vobDir: string; dir: string; configSpec?: string; now?: Date },
): Promise<{ view: ViewRegistration; update: UpdateResult }> {
  const { tag } = options;
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(tag)) {
    throw new InvalidInputError(`invalid view tag "${tag}"`, { hint: 'a view tag is letters, digits, "_", "." and "-"' });
  }
  const path = resolve(options.dir);
  const registration: ViewRegistration = { tag, path, vob: resolve(options.vobDir), created: Date.now() };
  home.withDatabase((site) =>
    site.transaction(() => {
      if (site.db.prepare('SELECT 1 FROM view WHERE tag = ?').get(tag))
        throw new AlreadyExistsError('view tag', tag, { hint: 'see msite lsview' });
      const other = site.db.prepare('SELECT tag FROM view WHERE path = ?').pluck().get(path) as string | undefined;
      if (other !== undefined) throw new AlreadyExistsError('view directory', path, { hint: `view "${other}" is there` });
      site.db.prepare('INSERT INTO view (tag, path, vob, created) VALUES (@tag, @path, @vob, @created)').run(registration);
    }),
  );
  let view: View;
  try {
    view = View.create(path, { tag, vobDir: options.vobDir, configSpec: options.configSpec });
  } catch (err) {
    home.withDatabase((site) => site.db.prepare('DELETE FROM view WHERE tag = ?').run(tag));
    throw err;
  }
  try {
    return { view: registration, update: await updateView(view, { now: options.now }) };
  } finally {
    view.close();
  }
}

/** The site's views, in tag order, each with whether its directory and VOB are still there. */
export function listViews(home: SiteHome): ViewListing[] {
  if (!existsSync(home.databaseFile)) return [];
  const rows = home.withDatabase(
    (site) => site.db.prepare('SELECT tag, path, vob, created FROM view ORDER BY tag').all() as ViewRegistration[],
  );
  return rows.map((r) => ({
    ...r,
    status: !existsSync(join(r.path, VIEW_ADMIN_DIR, VIEW_DB_FILE))
      ? 'directory gone'
      : !existsSync(join(r.vob, 'vob.db'))
        ? 'VOB gone'
        : 'ok',
  }));
}

/** The registration of a view by tag, or by its directory (or any path inside it). */
export function findView(home: SiteHome, tagOrPath: string, cwd: string): ViewRegistration | undefined {
  const views = listViews(home);
  const byTag = views.find((v) => v.tag === tagOrPath);
  if (byTag) return byTag;
  const path = resolve(cwd, tagOrPath);
  const root = findViewRoot(path) ?? path;
  return views.find((v) => v.path === root);
}

/**
 * The root directory of the view `--view` names (a tag, or a path in a view), or of the view the
 * working directory is in. Undefined when neither names one: the command then works outside views.
 *
 * @throws StateError for a registered view whose directory was removed by hand; NotFoundError for a
 * `--view` that is neither a registered tag nor in a view.
 */
export function viewRootFor(home: SiteHome, wanted: string | undefined, cwd: string): string | undefined {
  if (wanted === undefined) return findViewRoot(cwd);
  const registered = findView(home, wanted, cwd);
  if (registered && !existsSync(join(registered.path, VIEW_ADMIN_DIR, VIEW_DB_FILE))) {
    throw new StateError(`view "${registered.tag}": its directory ${registered.path} is gone`, {
      data: { view: registered.tag, path: registered.path },
      hint: `it was removed by hand; drop its registration with msite rmview ${registered.tag}`,
    });
  }
  if (registered) return registered.path;
  const root = findViewRoot(resolve(cwd, wanted));
  if (root === undefined) throw new NotFoundError('view', wanted, { hint: 'give a view tag or a directory in a view (see msite lsview)' });
  return root;
}

/**
 * Removes a view: its checkouts are refused unless `force` (which cancels them), then its directory
 * (loaded files, view-private files, its state) and its registration. A view whose directory was
 * removed by hand, or whose VOB is gone, is removed all the same.
 */
export function removeView(
  home: SiteHome,
  tagOrPath: string,
  cwd: string,
  options: { force?: boolean } = {},
): { tag: string; path: string; cancelled: number } {
  const registered = findView(home, tagOrPath, cwd);
  const root = registered?.path ?? findViewRoot(resolve(cwd, tagOrPath));
  if (root === undefined) throw new NotFoundError('view', tagOrPath, { hint: 'see msite lsview' });
  let cancelled = 0;
  let tag = registered?.tag ?? root;
  if (existsSync(join(root, VIEW_ADMIN_DIR, VIEW_DB_FILE))) {
    let view: View | undefined;
    try {
      view = View.openAt(root);
    } catch {
      // Its VOB is gone: there are no checkouts left to cancel.
    }
    if (view) {
      try {
        tag = view.tag;
        const checkouts = view.checkouts();
        if (checkouts.length > 0 && !options.force) {
          throw new StateError(
            `view "${tag}" has ${checkouts.length} checkout${checkouts.length === 1 ? '' : 's'}: ${checkouts.map((c) => c.path).join(', ')}`,
            {
              hint: 'check them in or uncheckout them, or remove the view with --force (which cancels them)',
            },
          );
        }
        for (const c of checkouts) {
          uncheckout(view.vob, c.path, { config: view.configSpec() });
          cancelled++;
        }
      } finally {
        view.close();
      }
    }
    writingTo('remove', root, () => rmSync(root, { recursive: true, force: true }));
  }
  if (registered) home.withDatabase((site) => site.db.prepare('DELETE FROM view WHERE tag = ?').run(registered.tag));
  return { tag, path: root, cancelled };
}
