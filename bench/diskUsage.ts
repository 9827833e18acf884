import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export interface DiskUsage {
  /** Sum of file sizes (what `du --apparent-size` counts): the figure the ratios use. */
  apparent: number;
  /** Sum of allocated blocks (`st.blocks * 512`), which includes filesystem block rounding. */
  allocated: number;
  files: number;
}

/** Walks `dir` without following symlinks and adds up every regular file. */
export function diskUsage(dir: string): DiskUsage {
  const usage: DiskUsage = { apparent: 0, allocated: 0, files: 0 };
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, entry.name);
      if (entry.isDirectory()) {
        walk(p);
      } else if (entry.isFile()) {
        const st = lstatSync(p);
        usage.apparent += st.size;
        usage.allocated += st.blocks * 512;
        usage.files++;
      }
    }
  };
  walk(dir);
  return usage;
}
