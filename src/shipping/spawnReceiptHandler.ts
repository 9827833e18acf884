import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';

export interface ReceiptHandlerRun {
  handler: string;
  origin: string;
  packetPath: string;
  orderPath: string;
  storageClass: string;
  /** Its stdout and stderr are appended here. */
  logFile: string;
}

/**
 * Starts a storage class's RECEIPT-HANDLER for a packet just received, as MultiSite does:
 * `HANDLER -o ORIGIN -d PACKET -a ORDER -s CLASS`, detached (the receiver does not wait, and the
 * handler outlives a daemon that stops). Resolves with its process id once it has started, or with
 * the reason it could not.
 */
export function spawnReceiptHandler(run: ReceiptHandlerRun): Promise<{ pid: number } | { error: string }> {
  mkdirSync(dirname(run.logFile), { recursive: true });
  const out = openSync(run.logFile, 'a');
  try {
    const child = spawn(run.handler, ['-o', run.origin, '-d', run.packetPath, '-a', run.orderPath, '-s', run.storageClass], {
      detached: true,
      stdio: ['ignore', out, out],
    });
    return new Promise((resolveStart) => {
      child.once('error', (err) => resolveStart({ error: err.message }));
      child.once('spawn', () => {
        child.unref();
        resolveStart({ pid: child.pid! });
      });
    });
  } finally {
    closeSync(out);
  }
}
