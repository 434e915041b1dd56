import { createHash } from 'node:crypto';
import { predictionOutputs, type AnyPredictResponse, type PredictionRecord } from '@mlbg/contract';

/** Rows of outputs one record keeps: a 10,000-row batch must not make the log hold megabytes. */
export const MAX_RECORDED_ROWS = 100;
/** The largest input a slot keeps as it is (digested when read); a wider one is digested at once. */
export const MAX_KEPT_INPUT_BYTES = 4096;
/**
 * Numbers of an answer one record keeps (32 KB): fewer rows of a wide answer (4 rows of a 1,000-class
 * classifier), and only a digest of one whose single row is wider.
 */
export const MAX_KEPT_OUTPUT_VALUES = 4096;
/** What one log holds at most (its estimate of the heap its slots keep); the oldest records go first. */
export const MAX_LOG_BYTES = 16 * 1024 * 1024;
/** A request id is kept as sent up to this length; a longer one as its start and a digest of the whole. */
export const MAX_REQUEST_ID_LENGTH = 128;
/** Digits of the input digest kept: enough to tell inputs apart, short in every record. */
const DIGEST_DIGITS = 16;
/** What a slot costs besides its data (its meta, the arrays' entries): an estimate, on the safe side. */
const SLOT_OVERHEAD_BYTES = 256;

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

/** sha256 of every number of the outputs, row after row (first digits). */
function outputsDigest(outputs: readonly (readonly number[])[]): string {
  const hash = createHash('sha256');
  for (const row of outputs) hash.update(new Uint8Array(Float64Array.from(row).buffer));
  return hash.digest('hex').slice(0, DIGEST_DIGITS);
}

/** The id as kept: as sent when short, else its start and a digest of the whole (the same on every color). */
export function keptRequestId(id: string): string {
  if (id.length <= MAX_REQUEST_ID_LENGTH) return id;
  const digest = createHash('sha256').update(id).digest('hex').slice(0, DIGEST_DIGITS);
  return `${id.slice(0, MAX_REQUEST_ID_LENGTH - DIGEST_DIGITS - 1)}~${digest}`;
}

/**
 * Numbers per row of an answer: a classifier's one probability per class, else its first row's. Not
 * from a classifier's probability rows: making them formats every probability (the classifier's
 * `probabilities` getter), which cost the recorded classifier answer about 45% of its CPU on Node 26.
 */
function answerWidth(response: AnyPredictResponse): number {
  if ('probabilities' in response) return response.classes.length;
  const first = (response.predictions as (number | number[])[])[0];
  return Array.isArray(first) ? first.length : 1;
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

type Outputs = Pick<PredictionRecord, 'outputs' | 'labels' | 'outputsDigest'>;

/**
 * The last `capacity` predictions in a ring buffer (fixed memory: a slot per record, each with at most
 * {@link MAX_RECORDED_ROWS} rows). Capacity 0 records nothing.
 *
 * Recording costs no allocation: a slot is a position in parallel arrays holding what the request
 * already made (its meta, input tensor and response); the digest and the record's JSON shape are
 * made only when `deploy:diff` reads it. Hashing and building a record on every request cost about
 * a fifth of a 3-row `/predict` (the bench's direct ratio fell from 0.86x to 0.64x), and the log is
 * read rarely. A large batch, a wide input or a wide answer is reduced at once, so a slot never
 * holds more than {@link MAX_KEPT_INPUT_BYTES} of input, {@link MAX_KEPT_OUTPUT_VALUES} numbers of
 * answer or {@link MAX_REQUEST_ID_LENGTH} characters of request id; and the log as a whole never
 * more than {@link MAX_LOG_BYTES} (the oldest records go first when it would).
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
  /** Each slot's estimated heap bytes, and their sum over the records still kept. */
  private readonly sizes: Float64Array;
  private heldBytes = 0;
  /** The oldest record still kept (older ones were overwritten or dropped for bytes). */
  private oldest = 1;

  /** @param maxBytes what the log may hold at most (its estimate); tests pass a smaller one */
  constructor(
    readonly capacity: number,
    private readonly maxBytes = MAX_LOG_BYTES,
  ) {
    this.metas = new Array<PredictionMeta | undefined>(capacity);
    this.times = new Float64Array(capacity);
    this.latencies = new Float64Array(capacity);
    this.rowCounts = new Float64Array(capacity);
    this.inputs = new Array<ArrayBufferView | string | undefined>(capacity);
    this.answers = new Array<AnyPredictResponse | Outputs | undefined>(capacity);
    this.reduced = new Uint8Array(capacity);
    this.truncated = new Uint8Array(capacity);
    this.sizes = new Float64Array(capacity);
  }

  /** Records made since start (also the last record's `seq`). */
  get recorded(): number {
    return this.next;
  }

  record(meta: PredictionMeta, input: ArrayBufferView, rows: number, response: AnyPredictResponse): void {
    if (this.capacity === 0) return;
    // Reduced at once: a large batch (its outputs), a wide input (up to 100 rows of many features), a wide answer.
    const width = answerWidth(response);
    if (rows > MAX_RECORDED_ROWS || input.byteLength > MAX_KEPT_INPUT_BYTES || rows * width > MAX_KEPT_OUTPUT_VALUES) {
      // Only the rows kept are made (one more tells recordRows that the answer was longer); an answer wider than a
      // record keeps a digest of all of it, so all of it is made.
      this.recordRows(
        meta,
        inputDigest(input),
        rows,
        predictionOutputs(response, width > MAX_KEPT_OUTPUT_VALUES ? Infinity : MAX_RECORDED_ROWS + 1),
      );
      return;
    }
    this.keep(meta, rows, input, response, false, false);
  }

  /** A prediction already in rows (the V2 infer route's), with its input digest. */
  recordRows(meta: PredictionMeta, digest: string, rows: number, { outputs, labels }: Outputs): void {
    if (this.capacity === 0) return;
    const width = outputs[0]?.length ?? 0;
    if (width > MAX_KEPT_OUTPUT_VALUES) {
      const kept = {
        outputs: [],
        outputsDigest: outputsDigest(outputs),
        ...(labels ? { labels: labels.slice(0, MAX_RECORDED_ROWS) } : {}),
      };
      this.keep(meta, rows, digest, kept, true, true);
      return;
    }
    const keptRows = Math.min(MAX_RECORDED_ROWS, width === 0 ? MAX_RECORDED_ROWS : Math.floor(MAX_KEPT_OUTPUT_VALUES / width));
    const truncated = outputs.length > keptRows;
    const kept = {
      outputs: truncated ? outputs.slice(0, keptRows) : outputs,
      ...(labels ? { labels: truncated ? labels.slice(0, keptRows) : labels } : {}),
    };
    this.keep(meta, rows, digest, kept, true, truncated);
  }

  /** The kept records with `seq > after`, oldest first, at most `limit`. */
  since(after = 0, limit = this.capacity): PredictionRecord[] {
    const first = Math.max(after + 1, this.next - this.capacity + 1, this.oldest, 1);
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
    // The record this slot held goes (unless it went already, for bytes).
    if (this.next - this.capacity + 1 >= this.oldest) this.forget(this.next - this.capacity + 1);
    this.next += 1;
    const requestId = keptRequestId(meta.requestId);
    this.metas[slot] = requestId === meta.requestId ? meta : { ...meta, requestId };
    this.sizes[slot] = slotBytes(requestId, input, answer, rows, reduced);
    this.heldBytes += this.sizes[slot] as number;
    while (this.heldBytes > this.maxBytes && this.oldest < this.next) this.forget(this.oldest);
    this.times[slot] = Date.now();
    this.latencies[slot] = performance.now() - meta.startedAt;
    this.rowCounts[slot] = rows;
    this.inputs[slot] = input;
    this.answers[slot] = answer;
    this.reduced[slot] = reduced ? 1 : 0;
    this.truncated[slot] = truncated ? 1 : 0;
  }

  /** Drops the record `seq` (the oldest kept, or the one its slot is about to take): its data can be collected. */
  private forget(seq: number): void {
    if (seq < 1) return;
    const slot = (seq - 1) % this.capacity;
    this.heldBytes -= this.sizes[slot] as number;
    this.sizes[slot] = 0;
    this.metas[slot] = undefined;
    this.inputs[slot] = undefined;
    this.answers[slot] = undefined;
    this.oldest = Math.max(this.oldest, seq + 1);
  }

  private recordAt(seq: number): PredictionRecord {
    const slot = (seq - 1) % this.capacity;
    const meta = this.metas[slot] as PredictionMeta;
    const input = this.inputs[slot] as ArrayBufferView | string;
    const answer = this.answers[slot] as AnyPredictResponse | Outputs;
    const {
      outputs,
      labels,
      outputsDigest: digest,
    } = this.reduced[slot] === 1 ? (answer as Outputs) : (predictionOutputs(answer as AnyPredictResponse) as Outputs);
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
      ...(digest ? { outputsDigest: digest } : {}),
      latencyMs: Math.round((this.latencies[slot] as number) * 1000) / 1000,
      shadow: meta.shadow,
    };
  }
}

/**
 * What a slot keeps on the heap, estimated on the safe side: 8 bytes a number, 2 a character, the
 * input tensor's bytes (or its digest), a fixed overhead.
 */
function slotBytes(
  requestId: string,
  input: ArrayBufferView | string,
  answer: AnyPredictResponse | Outputs,
  rows: number,
  reduced: boolean,
): number {
  let values: number;
  let labels = 0;
  if (reduced) {
    const kept = answer as Outputs;
    values = kept.outputs.reduce((sum, row) => sum + row.length, 0);
    labels = kept.labels?.length ?? 0;
  } else {
    const response = answer as AnyPredictResponse;
    values = rows * answerWidth(response);
    // One label a row (the class names are the model's, shared by every answer).
    labels = 'probabilities' in response ? rows : 0;
  }
  const inputBytes = typeof input === 'string' ? input.length * 2 : input.byteLength;
  return SLOT_OVERHEAD_BYTES + requestId.length * 2 + inputBytes + values * 8 + labels * 64;
}
