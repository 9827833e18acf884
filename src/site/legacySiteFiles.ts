import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Database } from 'better-sqlite3';
import { z } from 'zod';
import { StorageError } from '../core/errors.js';
import type { JobRunState } from '../schedule/scheduleStore.js';
import { writeStoredSchedule } from '../schedule/storedSchedule.js';

/**
 * The files a site home held before the site database: `vobs.json` (the VOB registry) and
 * `schedule/schedule.json` (the schedule store, format 1) with its lock file `schedule/schedule.lock`.
 * Their formats are read here and nowhere else, once, by the site database's first migration.
 *
 * After the migration commits, the two files are renamed aside with a `.migrated` suffix rather than
 * removed: nothing reads them again, but an administrator can still see (or go back to) what was
 * there. The lock file carries nothing and is removed.
 */
const REGISTRY_FILE = 'vobs.json';
const SCHEDULE_FILE = join('schedule', 'schedule.json');
const SCHEDULE_LOCK = join('schedule', 'schedule.lock');
export const MIGRATED_SUFFIX = '.migrated';

const registrySchema = z.array(z.object({ tag: z.string().min(1), path: z.string().min(1) }));

const completionSchema = z.object({
  processId: z.number().int().optional(),
  started: z.string().optional(),
  ended: z.string().optional(),
  exitStatus: z.number().int().optional(),
  messages: z.string().optional(),
});
const runStateSchema = z.object({
  definedAt: z.number().optional(),
  lastScheduledStart: z.number().optional(),
  running: z.object({ processId: z.number().int(), started: z.number(), runnerPid: z.number().int().optional() }).optional(),
  lastCompletion: completionSchema.optional(),
});
const scheduleSchema = z.object({
  format: z.literal(1),
  jobs: z.string(),
  tasks: z.string(),
  acl: z.string(),
  nextJobId: z.number().int().positive(),
  state: z.record(z.string().regex(/^\d+$/), runStateSchema),
});

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

function readJson<T>(file: string, schema: z.ZodType<T>, what: string): T {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new StorageError(`cannot migrate ${what} ${file}: ${(err as Error).message}`, { cause: err, hint: 'repair the file' });
  }
  const result = schema.safeParse(parsed);
  if (!result.success) throw new StorageError(`cannot migrate ${what} ${file}: it is malformed`, { hint: 'repair the file' });
  return result.data;
}

/** Whether the site home holds files of the version before the site database. */
export function hasLegacySiteFiles(homeDir: string): boolean {
  return existsSync(join(homeDir, REGISTRY_FILE)) || existsSync(join(homeDir, SCHEDULE_FILE));
}

/**
 * Copies the legacy registry and schedule store into the site database's tables. Runs inside the
 * migration's write transaction, so a malformed file fails the whole migration and changes nothing.
 *
 * @returns whether there was anything to import (then `retireLegacySiteFiles` after the commit).
 * @throws StorageError when a file cannot be read or is malformed.
 */
export function importLegacySiteFiles(db: Database, homeDir: string, now: number): boolean {
  const registryFile = join(homeDir, REGISTRY_FILE);
  const scheduleFile = join(homeDir, SCHEDULE_FILE);
  let found = false;
  if (existsSync(registryFile)) {
    found = true;
    const insert = db.prepare("INSERT OR IGNORE INTO vob (tag, path, state, created) VALUES (?, ?, 'ready', ?)");
    for (const entry of readJson(registryFile, registrySchema, 'the VOB registry')) insert.run(entry.tag, resolve(entry.path), now);
  }
  if (existsSync(scheduleFile)) {
    found = true;
    const file = readJson(scheduleFile, scheduleSchema, 'the schedule store');
    writeStoredSchedule(db, {
      jobs: file.jobs,
      tasks: file.tasks,
      acl: file.acl,
      nextJobId: file.nextJobId,
      state: new Map(Object.entries(file.state).map(([id, s]) => [Number(id), withoutUndefined<JobRunState>(s)])),
    });
  }
  return found;
}

/** Renames the migrated files aside and removes the old lock file (see the module comment). */
export function retireLegacySiteFiles(homeDir: string): void {
  for (const name of [REGISTRY_FILE, SCHEDULE_FILE]) {
    const file = join(homeDir, name);
    if (existsSync(file)) renameSync(file, file + MIGRATED_SUFFIX);
  }
  rmSync(join(homeDir, SCHEDULE_LOCK), { force: true });
}
