import type { Oid } from '../core/ids.js';
import { updateView, type UpdateResult } from '../view/updateView.js';
import type { View } from '../view/view.js';
import { fsImport, type FsImportOptions, type FsImportResult } from './fsImport.js';

export interface FsImportInViewResult extends FsImportResult {
  /** The view's tag. */
  view: string;
  /** The update of TARGET-DIR that loaded what was imported (absent with `preview`). */
  update: UpdateResult | undefined;
}

/**
 * fsImport into a directory of a snapshot view, as clearfsimport takes a view's directory: the view's
 * VOB, its config spec selecting what is there (new versions go on the branch a checkout in the view
 * would take: a `-mkbranch` rule's, else the selected version's), elements checked out in the view
 * refused, and TARGET-DIR updated afterwards so what was imported is loaded in the view. `targetDir`
 * is a file system path in the view.
 */
export async function fsImportInView(
  view: View,
  sources: readonly string[],
  targetDir: string,
  options: Omit<FsImportOptions, 'config' | 'checkedOut' | 'skip'> = {},
): Promise<FsImportInViewResult> {
  const target = view.vobPath(targetDir);
  const checkedOut = new Set<Oid>(view.checkouts().map((c) => c.element));
  // A source in the view itself (its view-private files made elements) never brings the view's own state in.
  const result = fsImport(view.vob, sources, target, { ...options, config: view.configSpec(), checkedOut, skip: new Set([view.adminDir]) });
  const update = result.preview ? undefined : await updateView(view, { paths: [view.filePath(target)] });
  return { ...result, view: view.tag, update };
}
