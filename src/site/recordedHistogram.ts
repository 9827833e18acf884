import { Histogram, type LabelValues, type Registry } from 'prom-client';
import type { RecordedDurations } from './siteMetrics.js';

type Snapshot<T extends string> = Awaited<ReturnType<Histogram<T>['get']>>;

/**
 * A prom-client histogram whose series are set whole from recorded counts (bucket counts, sum and
 * count read from the stores at scrape time) rather than observed one value at a time: imports and
 * exports run in other processes, so the daemon cannot observe them, and replaying thousands of
 * recorded durations into `observe` at every scrape would cost what SQLite counts for free.
 */
export class RecordedHistogram<T extends string> extends Histogram<T> {
  private readonly series: { labels: LabelValues<T>; durations: RecordedDurations }[] = [];
  private readonly metricName: string;
  /** Unregistered and empty: gives the snapshot its name, help, type and aggregator as prom-client writes them. */
  private readonly shape: Histogram<T>;

  constructor(
    config: { name: string; help: string; labelNames: readonly T[]; registers: Registry[] },
    private readonly bounds: readonly number[],
  ) {
    super({ ...config, labelNames: [...config.labelNames], buckets: [...bounds] });
    this.metricName = config.name;
    this.shape = new Histogram({ name: config.name, help: config.help, labelNames: [...config.labelNames], registers: [] });
  }

  /** Sets the series of `labels`; `durations.buckets` are cumulative counts for each bound given at construction. */
  setRecorded(labels: LabelValues<T>, durations: RecordedDurations): void {
    this.series.push({ labels, durations });
  }

  override async get(): Promise<Snapshot<T>> {
    return this.snapshot();
  }

  /** What the registry formats as text (prom-client asks for this when present). */
  async getForPromString(): Promise<Snapshot<T>> {
    return this.snapshot();
  }

  private async snapshot(): Promise<Snapshot<T>> {
    const base = await this.shape.get();
    const values: Snapshot<T>['values'] = [];
    for (const { labels, durations } of this.series) {
      this.bounds.forEach((le, i) =>
        values.push({
          labels: { ...labels, le },
          value: durations.buckets[i] ?? 0,
          metricName: `${this.metricName}_bucket`,
        }),
      );
      values.push({ labels: { ...labels, le: '+Inf' }, value: durations.count, metricName: `${this.metricName}_bucket` });
      values.push({ labels, value: durations.sumSeconds, metricName: `${this.metricName}_sum` });
      values.push({ labels, value: durations.count, metricName: `${this.metricName}_count` });
    }
    return { ...base, values };
  }
}
