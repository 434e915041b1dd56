import { createHash } from 'node:crypto';
import { predictionOutputs, type AnyPredictResponse, type PredictionRecord } from '@mlbg/contract';

/** Rows of outputs one record keeps: a 10,000-row batch must not make the log hold megabytes. */
export const MAX_RECORDED_ROWS = 100;
/** Digits of the input digest kept: enough to tell inputs apart, short in every record. */
const DIGEST_DIGITS = 16;

/** What the caller knows about the request a prediction answered. */
export interface PredictionMeta {
  readonly requestId: string;
  readonly shadow: boolean;
  /** `performance.now()` when the request arrived. */
  readonly startedAt: number;
  readonly route: PredictionRecord['route'];
}

/** sha256 of the input tensors' bytes (first digits): the same numbers give the same digest on every path. */
export function inputDigest(...inputs: ArrayBufferView[]): string {
  const hash = createHash('sha256');
  for (const input of inputs) hash.update(new Uint8Array(input.buffer, input.byteOffset, input.byteLength));
  return hash.digest('hex').slice(0, DIGEST_DIGITS);
}

/** One V2 output tensor, flat and row-major, as the infer route answers it. */
interface V2Output {
  readonly shape: readonly number[];
  readonly data: readonly (number | string | boolean)[];
}

/** V2 outputs as rows: each row the numbers of every numeric output; a one-string-per-row output gives the labels. */
export function v2Rows(outputs: readonly V2Output[], rows: number): Pick<PredictionRecord, 'outputs' | 'labels'> {
  const rowsOut: number[][] = Array.from({ length: rows }, () => []);
  let labels: (string | number)[] | undefined;
  for (const output of outputs) {
    const width = output.shape.slice(1).reduce((product, size) => product * size, 1);
    if (typeof output.data[0] === 'string') {
      if (width === 1 && labels === undefined) labels = output.data as string[];
      continue;
    }
    for (let row = 0; row < rows; row += 1) rowsOut[row]?.push(...output.data.slice(row * width, (row + 1) * width).map(Number));
  }
  return { outputs: rowsOut, ...(labels ? { labels } : {}) };
}

/**
 * A kept prediction before it is read. A small batch keeps its input and response as they are and is
 * digested and formatted only when `deploy:diff` reads it: hashing and formatting on every request cost
 * about 5% of a 3-row request's CPU, and the log is read rarely. A large batch is reduced at once, so a
 * slot never holds more than {@link MAX_RECORDED_ROWS} rows of outputs and no big input tensor.
 */
interface Kept {
  readonly seq: number;
  readonly meta: Omit<PredictionMeta, 'startedAt'>;
  /** `Date.now()` when recorded. */
  readonly at: number;
  readonly rows: number;
  readonly latencyMs: number;
  /** The outputs were cut to {@link MAX_RECORDED_ROWS} rows. */
  readonly truncated: boolean;
  readonly digest: () => string;
  readonly outputs: () => Pick<PredictionRecord, 'outputs' | 'labels'>;
}

/**
 * The last `capacity` predictions in a ring buffer (fixed memory: a slot per record, each with at most
 * {@link MAX_RECORDED_ROWS} rows). Capacity 0 records nothing.
 */
export class PredictionLog {
  private readonly slots: (Kept | undefined)[];
  private next = 0;

  constructor(readonly capacity: number) {
    this.slots = new Array<Kept | undefined>(capacity);
  }

  /** Records made since start (also the last record's `seq`). */
  get recorded(): number {
    return this.next;
  }

  record(meta: PredictionMeta, input: ArrayBufferView, rows: number, response: AnyPredictResponse): void {
    if (this.capacity === 0) return;
    if (rows > MAX_RECORDED_ROWS) {
      this.recordRows(meta, inputDigest(input), rows, predictionOutputs(response));
      return;
    }
    this.keep(meta, rows, false, once(() => inputDigest(input)), once(() => predictionOutputs(response)));
  }

  /** A prediction already in rows (the V2 infer route's), with its input digest. */
  recordRows(meta: PredictionMeta, digest: string, rows: number, { outputs, labels }: Pick<PredictionRecord, 'outputs' | 'labels'>): void {
    if (this.capacity === 0) return;
    const truncated = outputs.length > MAX_RECORDED_ROWS;
    const kept = { outputs: truncated ? outputs.slice(0, MAX_RECORDED_ROWS) : outputs, ...(labels ? { labels: truncated ? labels.slice(0, MAX_RECORDED_ROWS) : labels } : {}) };
    this.keep(meta, rows, truncated, () => digest, () => kept);
  }

  /** The kept records with `seq > after`, oldest first, at most `limit`. */
  since(after = 0, limit = this.capacity): PredictionRecord[] {
    const first = Math.max(after + 1, this.next - this.capacity + 1, 1);
    const last = Math.min(this.next, first + limit - 1);
    const records: PredictionRecord[] = [];
    for (let seq = first; seq <= last; seq += 1) {
      const kept = this.slots[(seq - 1) % this.capacity];
      if (kept) records.push(asRecord(kept));
    }
    return records;
  }

  private keep(meta: PredictionMeta, rows: number, truncated: boolean, digest: Kept['digest'], outputs: Kept['outputs']): void {
    this.next += 1;
    const { startedAt, ...rest } = meta;
    this.slots[(this.next - 1) % this.capacity] = { seq: this.next, meta: rest, at: Date.now(), rows, latencyMs: Math.round((performance.now() - startedAt) * 1000) / 1000, truncated, digest, outputs };
  }
}

function asRecord(kept: Kept): PredictionRecord {
  const { outputs, labels } = kept.outputs();
  return {
    seq: kept.seq,
    requestId: kept.meta.requestId,
    time: new Date(kept.at).toISOString(),
    route: kept.meta.route,
    inputDigest: kept.digest(),
    rows: kept.rows,
    outputs,
    ...(labels ? { labels } : {}),
    truncated: kept.truncated,
    latencyMs: kept.latencyMs,
    shadow: kept.meta.shadow,
  };
}

/** `compute` run on the first call only (a record is read by every `deploy:diff` that overlaps it). */
function once<T>(compute: () => T): () => T {
  let value: { readonly result: T } | undefined;
  return () => (value ??= { result: compute() }).result;
}
