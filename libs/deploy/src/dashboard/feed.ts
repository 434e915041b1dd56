import type { Color, ColorDetail, DashboardSnapshot, FeedEvent, HistoryView, Sample, StackView } from '@mlbg/contract';
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { MAX_LOG_READ_BYTES } from '../effects/log-files';
import type { ChartSample, ChartSource } from '../backends/backend';
import { replicasMetrics } from '../backends/replica-metrics';
import type { CommandContext } from '../commands/context';
import type { LastDiff } from '../commands/shadow/last-diff';
import { stackStatus } from '../commands/stack/stack';
import type { Clock, HttpClient } from '../effects/deps';
import { judgeHealth } from '../effects/service-client';
import { unsettledIntent } from '../commands/switch/reconcile';
import type { HistoryEntry } from '../history/history';
import {
  type AccessLine,
  type MetricsCounts,
  type TrafficPoint,
  accessPoint,
  metricsPoint,
  parseAccessLine,
  parseMetrics,
} from './traffic';

const COLORS: readonly Color[] = ['blue', 'green'];
/** The charts' window: 15 minutes of one point a second. */
export const WINDOW_MS = 15 * 60_000;
/** How often the charts and the status move (the issue: every second or two). */
export const DEFAULT_FEED_TIMING = { sampleMs: 1_000, statusMs: 2_000 } as const;
/** Timelines longer than this send only their newest entries. */
const HISTORY_ENTRIES = 500;
const SCRAPE_TIMEOUT_MS = 1_500;

/**
 * The history as the timeline shows it: a switch's intent line is bookkeeping once the switch
 * recorded its outcome, so only an unsettled one (its command was killed) is shown.
 */
export function timeline(entries: readonly HistoryEntry[]): HistoryEntry[] {
  return entries.filter((entry) => entry.command !== 'switch-intent' || unsettledIntent(entries, entry.backend) === entry);
}

// What the feed sends (the snapshot, chart points, the stack, history and diff events) is the contract's: the page reads it.
export type { ColorDetail, FeedEvent, Sample, StackView } from '@mlbg/contract';

export interface FeedOptions {
  /** A context to read the deployment with (opened once, again after a failure). */
  readonly openContext: () => Promise<CommandContext>;
  readonly http: HttpClient;
  readonly clock: Clock;
  /** nginx's JSON access log, where the backend has one on this machine (local). */
  readonly accessLog?: string;
  readonly timing?: { readonly sampleMs: number; readonly statusMs: number };
}

/**
 * Watches one deployment: its status, history and latest diff report every `statusMs`, each color's /metrics and
 * nginx's access log every `sampleMs` (or, where the backend keeps the colors' traffic, its chart
 * points: Prometheus on Kubernetes), and keeps the last 15 minutes of points. A stack that goes
 * down shows as errors and gaps, never stops the feed.
 */
export class DashboardFeed {
  private readonly listeners = new Set<(event: FeedEvent) => void>();
  private readonly samples: Sample[] = [];
  private stack: StackView = {
    checkedAt: new Date(0).toISOString(),
    status: null,
    details: { blue: null, green: null },
    error: 'not read yet',
  };
  private history: HistoryView = { entries: [], skippedLines: [] };
  private historyKey = '';
  private diff: LastDiff | null = null;
  private context: CommandContext | undefined;
  private readonly lastCounts = new Map<Color, { counts: MetricsCounts; at: number }>();
  private accessOffset: number | undefined;
  private lastSampleAt: number;
  private timers: NodeJS.Timeout[] = [];
  private statusRunning = false;
  private sampleRunning = false;

  constructor(private readonly options: FeedOptions) {
    this.lastSampleAt = options.clock.now();
  }

  start(): void {
    const timing = this.options.timing ?? DEFAULT_FEED_TIMING;
    void this.refreshStack();
    this.skipAccessLogBacklog();
    this.timers = [
      setInterval(() => void this.refreshStack(), timing.statusMs),
      setInterval(() => void this.takeSample(), timing.sampleMs),
    ];
  }

  stop(): void {
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    this.listeners.clear();
  }

  /** Everything a new page needs at once (the server adds who it acts as). */
  snapshot(): Pick<DashboardSnapshot, 'stack' | 'samples' | 'history' | 'diff'> {
    return { stack: this.stack, samples: this.samples, history: this.history, diff: this.diff };
  }

  subscribe(listener: (event: FeedEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Reads the status and history now (after an action, so the page moves at once). */
  async refreshStack(): Promise<void> {
    if (this.statusRunning) return;
    this.statusRunning = true;
    try {
      const context = (this.context ??= await this.options.openContext());
      // The latest prediction-diff report (deploy diff, a diff gate, the page's compare), pushed when a
      // new one was made; read first, so a stack that is down does not hide it.
      const diff = context.lastDiff?.read() ?? null;
      if ((diff?.time ?? null) !== (this.diff?.time ?? null) || diff?.by !== this.diff?.by) {
        this.diff = diff;
        this.emit({ kind: 'diff', diff });
      }
      // The history first: it is there whether or not the stack answers (the judge's last verdicts, for /metrics, too).
      const history = await context.history.read();
      const entries = timeline(history.entries).slice(-HISTORY_ENTRIES);
      const key = `${history.entries.length}:${JSON.stringify(entries.at(-1) ?? null)}`;
      if (key !== this.historyKey) {
        this.historyKey = key;
        this.history = { entries, skippedLines: [...history.skippedLines] };
        this.emit({ kind: 'history', ...this.history });
      }
      const status = await stackStatus(context);
      const details = Object.fromEntries(
        await Promise.all(COLORS.map(async (color) => [color, await this.detail(context, color)] as const)),
      ) as Record<Color, ColorDetail | null>;
      this.stack = { checkedAt: new Date(this.options.clock.now()).toISOString(), status, details, error: null };
    } catch (error) {
      this.context = undefined;
      this.stack = {
        ...this.stack,
        checkedAt: new Date(this.options.clock.now()).toISOString(),
        error: error instanceof Error ? error.message : String(error),
      };
    } finally {
      this.statusRunning = false;
    }
    this.emit({ kind: 'stack', stack: this.stack });
  }

  private async detail(context: CommandContext, color: Color): Promise<ColorDetail | null> {
    try {
      const check = judgeHealth(await context.backend.colors.health(color));
      const health = check.health;
      if (!health) return null;
      return {
        version: health.version,
        sha256: health.model_sha256,
        featureCount: health.feature_count,
        uptimeSeconds: health.uptime_seconds,
        signature: health.signature ?? null,
      };
    } catch {
      return null;
    }
  }

  private async takeSample(): Promise<void> {
    if (this.sampleRunning) return;
    this.sampleRunning = true;
    try {
      const charts = this.context?.backend.charts;
      if (charts) return await this.takeChartSamples(charts);
      const now = this.options.clock.now();
      const seconds = Math.max(0.001, (now - this.lastSampleAt) / 1000);
      this.lastSampleAt = now;
      const [blue, green] = await Promise.all(COLORS.map((color) => this.scrape(color, now)));
      const lines = this.readAccessLog();
      const sample: Sample = { t: now, blue: blue ?? null, green: green ?? null, router: lines ? accessPoint(lines, seconds) : null };
      this.samples.push(sample);
      while (this.samples.length > 0 && (this.samples[0]?.t ?? now) < now - WINDOW_MS) this.samples.shift();
      this.emit({ kind: 'sample', sample });
    } finally {
      this.sampleRunning = false;
    }
  }

  /**
   * Where the backend keeps the colors' traffic (Prometheus on Kubernetes): its points since the
   * last one taken (the whole window at first), at its own step; there is no router point there.
   */
  private async takeChartSamples(charts: ChartSource): Promise<void> {
    const now = this.options.clock.now();
    const last = this.samples.at(-1)?.t;
    if (last !== undefined && now - last < charts.stepMs) return;
    let points: readonly ChartSample[];
    try {
      points = await charts.range(last === undefined ? now - WINDOW_MS : last + charts.stepMs, now);
    } catch {
      return; // Prometheus did not answer: a gap, the next tick asks again.
    }
    for (const point of points) {
      if (last !== undefined && point.t <= last) continue;
      const sample: Sample = { t: point.t, blue: point.blue, green: point.green, router: null };
      this.samples.push(sample);
      this.emit({ kind: 'sample', sample });
    }
    while (this.samples.length > 0 && (this.samples[0]?.t ?? now) < now - WINDOW_MS) this.samples.shift();
  }

  /**
   * The color's point since its previous scrape; null when it did not answer (and the next answer
   * starts afresh). Where the backend reaches each replica (local), the color's /metrics are all its
   * replicas' together; else its port's (replica 1's).
   */
  private async scrape(color: Color, now: number): Promise<TrafficPoint | null> {
    const url = this.stack.status?.colors?.[color].url;
    const replicas = (this.context?.backend.colors.replicas?.(color) ?? []).filter((replica) => replica.request);
    if (!url && replicas.length === 0) return null;
    try {
      const answer =
        replicas.length > 0
          ? await replicasMetrics(replicas)
          : await this.options.http(
              { host: new URL(url ?? '').hostname, port: Number(new URL(url ?? '').port) },
              { method: 'GET', path: '/metrics', timeoutMs: SCRAPE_TIMEOUT_MS },
            );
      if (answer.status !== 200) throw new Error(`HTTP ${answer.status}`);
      const counts = parseMetrics(answer.body);
      const previous = this.lastCounts.get(color);
      this.lastCounts.set(color, { counts, at: now });
      return previous ? metricsPoint(previous.counts, counts, Math.max(0.001, (now - previous.at) / 1000)) : null;
    } catch {
      this.lastCounts.delete(color);
      return null;
    }
  }

  /** Lines written since the last read; only whole lines (a torn last line waits for the next read). */
  private readAccessLog(): AccessLine[] | undefined {
    const file = this.options.accessLog;
    if (!file) return undefined;
    let fd: number | undefined;
    try {
      const size = statSync(file).size;
      // A shorter file is a new nginx (its prefix folder is made afresh) or a rotated log: read it from the start.
      let from = this.accessOffset === undefined || size < this.accessOffset ? 0 : this.accessOffset;
      // At most MAX_LOG_READ_BYTES a read: a feed that fell behind (or a huge log) skips to the newest lines.
      if (size - from > MAX_LOG_READ_BYTES) from = size - MAX_LOG_READ_BYTES;
      if (size === from) {
        this.accessOffset = from;
        return [];
      }
      fd = openSync(file, 'r');
      const buffer = Buffer.alloc(size - from);
      readSync(fd, buffer, 0, buffer.length, from);
      const text = buffer.toString('utf8');
      const end = text.lastIndexOf('\n') + 1;
      this.accessOffset = from + Buffer.byteLength(text.slice(0, end));
      return text
        .slice(0, end)
        .split('\n')
        .map(parseAccessLine)
        .filter((line): line is AccessLine => line !== undefined);
    } catch {
      this.accessOffset = undefined;
      return undefined;
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }

  /** Traffic from before the dashboard started is not this interval's. */
  private skipAccessLogBacklog(): void {
    if (!this.options.accessLog) return;
    try {
      this.accessOffset = statSync(this.options.accessLog).size;
    } catch {
      this.accessOffset = undefined;
    }
  }

  private emit(event: FeedEvent): void {
    for (const listener of this.listeners) listener(event);
  }
}
