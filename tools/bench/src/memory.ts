import { rssKb, withChildren } from './proc';
import type { MemorySnapshot, ProcessMemory } from './result';

/** A process (nginx: its master) whose resident memory the bench reports. */
export interface WatchedProcess {
  readonly name: string;
  readonly pid: number;
  /** nginx: count its workers too. */
  readonly withChildren: boolean;
}

export function memorySnapshot(label: MemorySnapshot['label'], watched: readonly WatchedProcess[]): MemorySnapshot {
  const processes: ProcessMemory[] = watched.map((item) => {
    const pids = item.withChildren ? withChildren(item.pid) : [item.pid];
    const sizes = pids.map((pid) => rssKb(pid));
    const known = sizes.filter((size): size is number => size !== undefined);
    return { name: item.name, pids, rssMb: known.length === 0 ? null : Math.round((known.reduce((a, b) => a + b, 0) / 1024) * 10) / 10 };
  });
  return { label, processes };
}

/** Samples the RSS of `watched` every `intervalMs` and keeps each one's largest, until stopped. */
export function startPeakSampler(watched: readonly WatchedProcess[], intervalMs = 500): { stop(): MemorySnapshot } {
  const peaks = new Map<string, ProcessMemory>();
  const sample = () => {
    for (const item of memorySnapshot('peak under load', watched).processes) {
      const seen = peaks.get(item.name);
      if (!seen || (item.rssMb ?? 0) > (seen.rssMb ?? 0)) peaks.set(item.name, item);
    }
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return {
        label: 'peak under load',
        processes: watched.map((item) => peaks.get(item.name) ?? { name: item.name, pids: [item.pid], rssMb: null }),
      };
    },
  };
}
