import type { Progress, ProgressListener } from '../core/progress.js';

/** The line is drawn again at most this often (ms), and whenever the step changes. */
const REDRAW_MS = 100;

/** Where the line goes: a terminal stream (process.stderr). */
export interface ProgressStream {
  isTTY?: boolean;
  write(text: string): unknown;
}

export interface ProgressLine {
  /** Give this to the work. */
  listener: ProgressListener;
  /** Erases the line, so other output (a warning) starts on a clean line; the next report draws it again. */
  clear(): void;
  /** Erases the line for good: call when the work ends, however it ends. */
  end(): void;
}

/**
 * Progress of long work (an export, an import) as one line on a terminal, drawn again in place
 * (carriage return, then erase to the end of the line) and erased when the work ends, so what the
 * command prints afterwards stands alone. When the stream is not a terminal (a script, a scheduled
 * job, a pipe) nothing is written at all: their output stays exactly the documented one.
 */
export function progressLine(stream: ProgressStream, now: () => number = Date.now): ProgressLine {
  if (!stream.isTTY) return { listener: () => {}, clear: () => {}, end: () => {} };
  let shown = false;
  let lastDraw = -Infinity;
  let lastStep = '';
  const clear = (): void => {
    if (shown) stream.write('\r\x1b[K');
    shown = false;
  };
  return {
    listener(p: Progress) {
      const t = now();
      if (p.step === lastStep && t - lastDraw < REDRAW_MS && p.done !== p.total) return;
      lastStep = p.step;
      lastDraw = t;
      stream.write(`\r\x1b[Kmsite: ${formatProgress(p)}`);
      shown = true;
    },
    clear,
    end: clear,
  };
}

/** "reading ops: 45,000 of 103,150 ops (43%)". */
export function formatProgress(p: Progress): string {
  const n = (x: number): string => x.toLocaleString('en-US');
  const percent = p.total > 0 ? ` (${Math.floor((100 * p.done) / p.total)}%)` : '';
  return `${p.step}: ${n(p.done)} of ${n(p.total)} ${p.unit}${percent}`;
}
