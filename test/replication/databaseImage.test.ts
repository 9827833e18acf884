import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { databaseImage, type DatabaseImage } from '../../src/replication/databaseImage.js';
import { DB_FILE, Vob } from '../../src/vob/vob.js';
import { tempDir } from '../helpers/cli.js';

/** The image written to a file, opened: its `probe` meta value and SQLite's integrity check. */
function imageState(image: DatabaseImage, file: string): { probe: unknown; integrity: unknown } {
  writeFileSync(file, image.read(0, image.size));
  const db = new BetterSqlite3(file, { readonly: true });
  try {
    return {
      probe: db.prepare("SELECT value FROM meta WHERE key = 'probe'").pluck().get(),
      integrity: db.pragma('integrity_check', { simple: true }),
    };
  } finally {
    db.close();
  }
}

describe('the database image a creation packet carries', () => {
  it('is the file read in place (free pages and all) under a read transaction, which writes made meanwhile do not reach', () => {
    const dir = tempDir();
    const vob = Vob.createStorage(join(dir, 'a.vob'));
    const other = new BetterSqlite3(join(dir, 'a.vob', DB_FILE));
    try {
      vob.transaction(() => vob.setMeta('probe', 'before'));
      vob.transaction(() => {
        for (let i = 0; i < 50; i++) vob.setMeta(`gone${i}`, 'x'.repeat(2000));
      });
      vob.transaction(() => vob.db.prepare("DELETE FROM meta WHERE key LIKE 'gone%'").run());
      expect(vob.db.pragma('freelist_count', { simple: true })).toBeGreaterThan(0);
      const image = databaseImage(vob, dir);
      try {
        expect(image.how).toBe('in place');
        // Another writer and a checkpoint while the image is open: its frames wait in the log.
        other.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('probe', 'after')").run();
        for (let i = 0; i < 200; i++) other.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run(`k${i}`, 'x'.repeat(2000));
        other.pragma('wal_checkpoint(PASSIVE)');
        expect(imageState(image, join(dir, 'image.db'))).toEqual({ probe: 'before', integrity: 'ok' });
      } finally {
        image.close();
      }
      expect(vob.db.inTransaction).toBe(false);
    } finally {
      other.close();
      vob.close();
    }
  });

  it('is a copy when a reader of an older snapshot holds the log back', () => {
    const dir = tempDir();
    const vob = Vob.createStorage(join(dir, 'a.vob'));
    const reader = new BetterSqlite3(join(dir, 'a.vob', DB_FILE), { readonly: true });
    try {
      reader.prepare('BEGIN').run();
      reader.prepare('SELECT COUNT(*) FROM meta').get();
      vob.transaction(() => vob.setMeta('probe', 'newest'));
      const held = databaseImage(vob, dir);
      try {
        expect(held.how).toBe('copy');
        expect(imageState(held, join(dir, 'held.db'))).toEqual({ probe: 'newest', integrity: 'ok' });
      } finally {
        held.close();
      }
      expect(readdirSync(dir).sort()).toEqual(['a.vob', 'held.db']);
    } finally {
      reader.close();
      vob.close();
    }
  });
});
