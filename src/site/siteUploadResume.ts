import type { UploadResumeStore } from '../shipping/tusTransport.js';
import type { SiteDatabase } from './siteDatabase.js';

/** The sender's resumable uploads in site.db's `upload_resume` table: they outlive the process. */
export class SiteUploadResume implements UploadResumeStore {
  constructor(
    private readonly site: SiteDatabase,
    private readonly now: () => number = Date.now,
  ) {}

  get(hop: string, sha256: string): string | undefined {
    return this.site.db.prepare('SELECT upload_path FROM upload_resume WHERE hop = ? AND sha256 = ?').pluck().get(hop, sha256) as
      string | undefined;
  }

  put(hop: string, sha256: string, uploadPath: string): void {
    this.site.db
      .prepare(
        'INSERT INTO upload_resume (hop, sha256, upload_path, created) VALUES (?, ?, ?, ?) ' +
          'ON CONFLICT (hop, sha256) DO UPDATE SET upload_path = excluded.upload_path, created = excluded.created',
      )
      .run(hop, sha256, uploadPath, this.now());
  }

  delete(hop: string, sha256: string): void {
    this.site.db.prepare('DELETE FROM upload_resume WHERE hop = ? AND sha256 = ?').run(hop, sha256);
  }
}
