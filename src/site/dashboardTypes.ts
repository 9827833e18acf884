import type { ConflictListing } from '../replication/mastershipCommands.js';
/**
 * The dashboard's snapshot of a site (dashboardState.ts), as `GET /api/dashboard` and the
 * `snapshot` events of `GET /api/events` send it. Plain JSON: times are ISO strings, so a browser
 * shows "ago" against its own clock and an unchanged site gives an unchanged snapshot. The front-end
 * imports these types only (`import type`), never code from the site layer.
 *
 * Long lists are capped (see `limits`): each capped list comes with the full count beside it.
 */

/** How many rows of each long list a snapshot carries. */
export interface DashboardLimits {
  /** Newest automatic renames per VOB. */
  conflicts: number;
  /** Packets listed per VOB and state (the rest are counted). */
  packetsPerState: number;
  /** Orders listed per list (in flight, returned). */
  orders: number;
  /** Lines per log tail. */
  logLines: number;
}

/** One replica of a VOB family, as this site knows it. */
export interface DashboardReplica {
  name: string;
  host: string;
  /** The replica this site holds. */
  self: boolean;
}

/** How this site reaches a host: directly (its PEER line) or through a ROUTE's next hop. */
export interface DashboardRoute {
  /** The host packets go to. */
  to: string;
  /** The next hop when a ROUTE line sends it through another host; null: directly. */
  via: string | null;
  /** The peer listener URL of the host reached first (`via`, else `to`); null when no PEER line names it. */
  url: string | null;
}

/** One sibling's column of the epoch matrix at this replica. */
export interface DashboardSibling {
  replica: string;
  host: string;
  /** This replica's estimate of what the sibling holds, by origin replica name (lsepoch's row). */
  row: Record<string, number>;
  /** Ops this replica holds that, by the estimate, the sibling lacks: the sum over origins of what the actual row has beyond the estimate. */
  lagOps: number;
  /** The newest import here of a packet from this sibling. */
  lastImportAt: string | null;
  /** The newest export here to this sibling. */
  lastExportAt: string | null;
}

/** The packets in the bays for one VOB, by state, as `lspacket` judges them here. */
export interface DashboardPacketGroup {
  /** `importable`, `deferred` (waits for ops it names), `already-applied`, `refused`, or `sealed` (opened by the import). */
  state: string;
  count: number;
  /** The first `limits.packetsPerState` of them, oldest name first. */
  packets: DashboardPacket[];
}

export interface DashboardPacket {
  /** File name in its bay. */
  name: string;
  bay: string;
  size: number;
  origin: string | null;
  /** Why it is not importable: exactly what it lacks for a deferred one. */
  reason: string | null;
}

/** An automatic rename met on import (the VOB's `conflict` table, as `lsconflict` lists it). */
export interface DashboardConflict extends ConflictListing {
  /** The object's master now, where the remedy runs. */
  master: string;
  /** The master's host. */
  masterHost: string;
  /** Whether names agree again here (the object's local name is the name its master gives it). */
  resolved: boolean;
  /** The commands that settle it: rename at the master, then send the update to the family. */
  remedy: string[];
}

export interface DashboardVob {
  tag: string;
  path: string;
  family: string | null;
  /** The replica this site holds. */
  replica: string | null;
  /** Set when the VOB cannot be read; the other fields are then empty. */
  error?: string;
  replicas: DashboardReplica[];
  /** This replica's actual row, by origin replica name. */
  actualRow: Record<string, number>;
  siblings: DashboardSibling[];
  packets: DashboardPacketGroup[];
  /** Renames whose names do not agree yet, all of them counted. */
  openConflicts: number;
  conflictCount: number;
  /** The newest `limits.conflicts`, newest first. */
  conflicts: DashboardConflict[];
}

/** One destination of a shipping order. */
export interface DashboardOrderDestination {
  host: string;
  state: string;
  attempts: number;
  lastError: string | null;
  nextTry: string | null;
}

export interface DashboardOrder {
  /** The packet's file name. */
  packet: string;
  bay: string;
  size: number;
  createdAt: string;
  expiresAt: string;
  destinations: DashboardOrderDestination[];
  /** The newest attempt recorded in site.db for it. */
  lastAttemptAt: string | null;
  /** For a returned order: the destinations never reached. */
  undelivered?: string[];
}

export interface DashboardJob {
  id: number;
  name: string;
  state: string;
  task: string;
  nextStart: string | null;
  running: boolean;
  lastCompletion: { started: string | null; ended: string | null; exitStatus: number | null; messages: string | null } | null;
}

export interface DashboardLogLine {
  /** ISO time when the line has one. */
  time: string | null;
  /** `info`, `warn`, `error`... or null for a plain text line. */
  level: string | null;
  text: string;
}

export interface DashboardLog {
  /** `shipping server` or the file name of a sync script's log. */
  name: string;
  file: string;
  lines: DashboardLogLine[];
}

export interface DashboardSnapshot {
  generatedAt: string;
  /** Milliseconds the snapshot took to read. */
  readMs: number;
  site: { home: string; host: string | null };
  limits: DashboardLimits;
  /** How this site reaches other hosts (shipping.conf PEER and ROUTE lines). */
  routes: DashboardRoute[];
  vobs: DashboardVob[];
  /** Packets in the bays no VOB here takes: sealed ones (the import opens them), unreadable ones, other families'. */
  unmatchedPackets: DashboardPacketGroup[];
  orders: { inFlight: DashboardOrder[]; inFlightCount: number; returned: DashboardOrder[]; returnedCount: number };
  jobs: DashboardJob[];
  logs: DashboardLog[];
  /** What could not be read, one line each. */
  problems: string[];
}
