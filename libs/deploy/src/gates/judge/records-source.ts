import type { Color, PredictionRecord } from '@mlbg/contract';
import type { ColorAccess } from '../gate';
import { type PredictionPair, pairRecords } from '../prediction-diff-report';
import { readRecords } from '../prediction-pairs';
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
  readonly mark: number;
}

/** Where a window of `color`'s records begins: the sequence number of its last record now. */
export async function recordsMark(colors: ColorAccess, color: Color): Promise<number> {
  return (await readRecords(colors, color, { limit: 0 })).recorded;
}

/** `color`'s records after `mark` (its {@link recordsMark} at the window's start), oldest first. */
export async function recordsSince(colors: ColorAccess, color: Color, mark: number): Promise<WindowRecords> {
  const records: PredictionRecord[] = [];
  let after = mark;
  let missed = 0;
  for (;;) {
    const page = await readRecords(colors, color, { after, limit: RECORDS_PAGE });
    // A color restarted in the window counts from 0 again: all it has is of this window.
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
      return { color, version: page.version, records, missed, capacity: page.capacity, mark: last?.seq ?? after };
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

/** A color's part of a judge window: what nginx logged for it and its records of the same window. */
export function colorWindow(
  color: Color,
  served: readonly Served[],
  records: readonly PredictionRecord[],
  sent?: ReadonlySet<string>,
): ColorWindow {
  return { color, served, answers: liveAnswers(records, sent) };
}
