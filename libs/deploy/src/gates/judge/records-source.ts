import type { Color, PredictionRecord } from '@mlbg/contract';
import type { ServedTraffic } from '../analysis/served';
import type { ColorAccess } from '../gate';
import { type PredictionPair, pairRecords } from '../prediction-diff-report';
import { inTimeOrder, readProcessRecords, recordKeepers } from '../prediction-pairs';
import type { Answer, ColorWindow, Served } from './window';

/**
 * Where the judge's answers come from on a backend whose colors answer GET /admin/predictions
 * (local, Compose): each color's prediction records made during the window, read by sequence
 * number (`?after=SEQ`), in pages.
 */

/** Records asked for per request: a page of 10,000 records is a few MB of JSON. */
export const RECORDS_PAGE = 10_000;

/** A color's records of a window, and how many it made there that its ring buffer no longer held. */
export interface WindowRecords {
  readonly color: Color;
  readonly version: string;
  readonly records: readonly PredictionRecord[];
  /** Made in the window but overwritten before they were read (PREDICTION_LOG_SIZE too small for the traffic). */
  readonly missed: number;
  /** 0: the color keeps no records (PREDICTION_LOG_SIZE=0), so its answers can not be judged. */
  readonly capacity: number;
  /** Where the next window begins. */
  readonly mark: RecordsMark;
}

/**
 * Where a window of a color's records begins: the sequence number of each process' last record
 * (each process numbers its own: a pod each on Kubernetes), by its name; `''` where the color is one process.
 */
export type RecordsMark = ReadonlyMap<string, number>;

const processKey = (instance: string | undefined) => instance ?? '';

/** Where a window of `color`'s records begins: each process' last record now. */
export async function recordsMark(colors: ColorAccess, color: Color): Promise<RecordsMark> {
  const keepers = await recordKeepers(colors, color);
  const marks = await Promise.all(
    keepers.map(
      async (instance) => [processKey(instance), (await readProcessRecords(colors, color, instance, { limit: 0 })).recorded] as const,
    ),
  );
  return new Map(marks);
}

/**
 * `color`'s records after `mark` (its {@link recordsMark} at the window's start), oldest first; a
 * process that was not there at the start (a new pod) is read from its first record.
 */
export async function recordsSince(colors: ColorAccess, color: Color, mark: RecordsMark): Promise<WindowRecords> {
  const keepers = await recordKeepers(colors, color);
  const each = await Promise.all(
    keepers.map((instance) => processRecordsSince(colors, color, instance, mark.get(processKey(instance)) ?? 0)),
  );
  return {
    color,
    // A color mid-rollout answers with two versions; the newest process's is the one a window is about.
    version: each.at(-1)?.version ?? '',
    // One process' records are in order; several processes' are put in time order (the sort is stable).
    records: each.length === 1 ? (each[0]?.records ?? []) : inTimeOrder(each.map((one) => one.records)),
    missed: each.reduce((sum, one) => sum + one.missed, 0),
    capacity: each.reduce((sum, one) => sum + one.capacity, 0),
    mark: new Map(keepers.map((instance, index) => [processKey(instance), each[index]?.mark ?? 0])),
  };
}

type ProcessWindow = Omit<WindowRecords, 'color' | 'mark'> & { readonly mark: number };

/** One process' records after its record `after`, in pages. */
async function processRecordsSince(colors: ColorAccess, color: Color, instance: string | undefined, from: number): Promise<ProcessWindow> {
  const records: PredictionRecord[] = [];
  let after = from;
  let missed = 0;
  for (;;) {
    const page = await readProcessRecords(colors, color, instance, { after, limit: RECORDS_PAGE });
    // A process restarted in the window counts from 0 again: all it has is of this window.
    if (page.recorded < after && records.length === 0) {
      after = 0;
      continue;
    }
    const first = page.records[0];
    // The ring buffer moved past `after` since: the records in between are gone.
    if (first && first.seq > after + 1) missed += first.seq - after - 1;
    records.push(...page.records);
    const last = page.records.at(-1);
    if (!last || page.records.length < RECORDS_PAGE) {
      return { version: page.version, records, missed, capacity: page.capacity, mark: last?.seq ?? after };
    }
    after = last.seq;
  }
}

/**
 * A color's answers to live traffic: records that are neither shadow copies nor replays, and not
 * requests the canary sent itself (`sent`: the request ids of its probes, as nginx gave them).
 */
export function liveAnswers(records: readonly PredictionRecord[], sent: ReadonlySet<string> = new Set()): Answer[] {
  return records
    .filter((record) => !record.shadow && !sent.has(record.requestId))
    .map((record) => ({ outputs: record.outputs, ...(record.labels ? { labels: record.labels } : {}) }));
}

/** The stable color's live answers joined with the canary's shadow copies of the same requests (nginx's mirror). */
export function shadowPairs(stable: readonly PredictionRecord[], canary: readonly PredictionRecord[]): PredictionPair[] {
  return pairRecords(stable, canary).pairs;
}

/**
 * A color's part of a judge window: what it served (each request, or a backend meter's
 * {@link ServedTraffic}: each request or counts only) and its records of the same window.
 */
export function colorWindow(
  color: Color,
  served: readonly Served[] | ServedTraffic,
  records: readonly PredictionRecord[],
  sent?: ReadonlySet<string>,
): ColorWindow {
  const answers = liveAnswers(records, sent);
  if (Array.isArray(served)) return { color, served, answers };
  const traffic = served as ServedTraffic;
  if (traffic.kind === 'histogram') {
    return { color, served: [], counted: { requests: traffic.requests, errors: traffic.errors, latency: traffic.latency }, answers };
  }
  return { color, served: traffic.requests.filter((sample) => sample.color === color).map(({ status, ms }) => ({ status, ms })), answers };
}
