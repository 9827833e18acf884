/**
 * Version 6 of the site database: `view`, the site's snapshot views by tag, with the directory each
 * is in and the VOB it was made on (the tag or storage directory `mkview --vob` named). The view's own
 * state is in the view (its `.msite/`); this table is how `lsview`, `rmview` and `--view TAG` find it.
 *
 * In a file of its own: the site schema needs the table, not the views' code, which every command
 * that opens the site would load with it (~40 ms of mkreplica's start-up).
 */
export const VIEW_SCHEMA_V6 = `
  CREATE TABLE view (
    tag TEXT PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    vob TEXT NOT NULL,
    created INTEGER NOT NULL
  );
`;
