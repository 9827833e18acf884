/**
 * How far a long piece of work (an export, an import) has come: `done` of `total` units of its
 * current step. Steps follow each other; a listener shows the latest.
 */
export interface Progress {
  /** What is being done now, e.g. "reading ops" or "applying sync_boston_hub_…_3". */
  step: string;
  done: number;
  total: number;
  /** What done and total count, e.g. "ops" or "packets". */
  unit: string;
}

/** Told of progress as it happens, from inside the work: it must be quick and must not throw. */
export type ProgressListener = (progress: Progress) => void;
