import { createHash } from 'node:crypto';
import { predictionOutputs, type AnyPredictResponse, type PredictionRecord } from '@mlbg/contract';

/** Rows of outputs one record keeps: a 10,000-row batch must not make the log hold megabytes. */
export const MAX_RECORDED_ROWS = 100;
/** The largest input a slot keeps as it is (digested when read); a wider one is digested at once. */
export const MAX_KEPT_INPUT_BYTES = 4096;
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

type Outputs = Pick<PredictionRecord, 'outputs' | 'labels'>;

/**
 * The last `capacity` predictions in a ring buffer (fixed memory: a slot per record, each with at most
 * {@link MAX_RECORDED_ROWS} rows). Capacity 0 records nothing.
 *
 * Recording costs no allocation: a slot is a position in parallel arrays holding what the request
 * already made (its meta, input tensor and response); the digest and the record's JSON shape are
 * made only when `deploy:diff` reads it. Hashing and building a record on every request cost about
 * a fifth of a 3-row `/predict` (the bench's direct ratio fell from 0.86x to 0.64x), and the log is
 * read rarely. A large batch or a wide input is reduced at once, so a slot never holds more than
 * {@link MAX_KEPT_INPUT_BYTES} of input or {@link MAX_RECORDED_ROWS} rows of answer.
 */
export class PredictionLog {
  private next = 0;
  private readonly metas: (PredictionMeta | undefined)[];
  private readonly times: Float64Array;
  private readonly latencies: Float64Array;
  private readonly rowCounts: Float64Array;
  /** The input tensor (digested when read), or its digest already made. */
  private readonly inputs: (ArrayBufferView | string | undefined)[];
  /** The response (turned into rows when read), or the rows already made (large batches, V2). */
  private readonly answers: (AnyPredictResponse | Outputs | undefined)[];
  private readonly reduced: Uint8Array;
  private readonly truncated: Uint8Array;

  constructor(readonly capacity: number) {
    this.metas = new Array<PredictionMeta | undefined>(capacity);
    this.times = new Float64Array(capacity);
    this.latencies = new Float64Array(capacity);
    this.rowCounts = new Float64Array(capacity);
    this.inputs = new Array<ArrayBufferView | string | undefined>(capacity);
    this.answers = new Array<AnyPredictResponse | Outputs | undefined>(capacity);
    this.reduced = new Uint8Array(capacity);
    this.truncated = new Uint8Array(capacity);
  }

  /** Records made since start (also the last record's `seq`). */
  get recorded(): number {
    return this.next;
  }

  record(meta: PredictionMeta, input: ArrayBufferView, rows: number, response: AnyPredictResponse): void {
    if (this.capacity === 0) return;
    // Reduced at once: a large batch (its outputs) or a wide input (up to 100 rows of many features).
    if (rows > MAX_RECORDED_ROWS || input.byteLength > MAX_KEPT_INPUT_BYTES) {
      // Only the rows kept are made (one more tells recordRows that the answer was longer).
      this.recordRows(meta, inputDigest(input), rows, predictionOutputs(response, MAX_RECORDED_ROWS + 1));
      return;
    }
    this.keep(meta, rows, input, response, false, false);
  }

  /** A prediction already in rows (the V2 infer route's), with its input digest. */
  recordRows(meta: PredictionMeta, digest: string, rows: number, { outputs, labels }: Outputs): void {
    if (this.capacity === 0) return;
    const truncated = outputs.length > MAX_RECORDED_ROWS;
    const kept = {
      outputs: truncated ? outputs.slice(0, MAX_RECORDED_ROWS) : outputs,
      ...(labels ? { labels: truncated ? labels.slice(0, MAX_RECORDED_ROWS) : labels } : {}),
    };
    this.keep(meta, rows, digest, kept, true, truncated);
  }

  /** The kept records with `seq > after`, oldest first, at most `limit`. */
  since(after = 0, limit = this.capacity): PredictionRecord[] {
    const first = Math.max(after + 1, this.next - this.capacity + 1, 1);
    const last = Math.min(this.next, first + limit - 1);
    const records: PredictionRecord[] = [];
    for (let seq = first; seq <= last; seq += 1) records.push(this.recordAt(seq));
    return records;
  }

  private keep(
    meta: PredictionMeta,
    rows: number,
    input: ArrayBufferView | string,
    answer: AnyPredictResponse | Outputs,
    reduced: boolean,
    truncated: boolean,
  ): void {
    const slot = this.next % this.capacity;
    this.next += 1;
    this.metas[slot] = meta;
    this.times[slot] = Date.now();
    this.latencies[slot] = performance.now() - meta.startedAt;
    this.rowCounts[slot] = rows;
    this.inputs[slot] = input;
    this.answers[slot] = answer;
    this.reduced[slot] = reduced ? 1 : 0;
    this.truncated[slot] = truncated ? 1 : 0;
  }

  private recordAt(seq: number): PredictionRecord {
    const slot = (seq - 1) % this.capacity;
    const meta = this.metas[slot] as PredictionMeta;
    const input = this.inputs[slot] as ArrayBufferView | string;
    const answer = this.answers[slot] as AnyPredictResponse | Outputs;
    const { outputs, labels } = this.reduced[slot] === 1 ? (answer as Outputs) : predictionOutputs(answer as AnyPredictResponse);
    return {
      seq,
      requestId: meta.requestId,
      time: new Date(this.times[slot] as number).toISOString(),
      route: meta.route,
      inputDigest: typeof input === 'string' ? input : inputDigest(input),
      rows: this.rowCounts[slot] as number,
      outputs,
      ...(labels ? { labels } : {}),
      truncated: this.truncated[slot] === 1,
      latencyMs: Math.round((this.latencies[slot] as number) * 1000) / 1000,
      shadow: meta.shadow,
    };
  }
}
