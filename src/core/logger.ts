import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * The process-wide structured logger. Commands stay quiet by default (stdout is for results,
 * stderr for the one error line); set MSITE_LOG_LEVEL=debug to see what they do. Daemons pass a
 * destination file.
 */
export function createLogger(options: { level?: string; destination?: string } = {}): Logger {
  const level = options.level ?? process.env.MSITE_LOG_LEVEL ?? 'silent';
  if (options.destination) {
    return pino({ level }, pino.destination({ dest: options.destination, mkdir: true, sync: true }));
  }
  return pino({ level }, pino.destination(2));
}
