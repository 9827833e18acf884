import { updateView, type UpdateResult } from './updateView.js';
import type { View } from './view.js';

/**
 * Sets a snapshot view's config spec and loads the view to match, as ClearCase's `setcs` does: a
 * spec with any bad line is refused whole (naming its file and line) and the view stays as it was.
 * `baseDir` is where its `include` names are read from.
 */
export async function setcs(
  view: View,
  text: string,
  source: string,
  baseDir: string,
  options: { now?: Date } = {},
): Promise<UpdateResult> {
  view.setConfigSpec(text, source, baseDir);
  return updateView(view, { now: options.now });
}
