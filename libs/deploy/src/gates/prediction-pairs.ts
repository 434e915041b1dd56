import { randomUUID } from 'node:crypto';
import {
  AnyPredictResponse,
  type Color,
  PREDICTIONS_ADMIN_PATH,
  type PredictionRecord,
  PredictionsResponse,
  SHADOW_HEADER,
  predictionOutputs,
} from '@mlbg/contract';
import { DeployError } from '../errors';
import type { ColorAccess } from './gate';
import { type AnswerSide, type PredictionPair, pairRecords } from './prediction-diff-report';

/** What a comparison found to compare, before it is judged. */
export interface CollectedPairs {
  readonly pairs: PredictionPair[];
  readonly unpaired: { readonly live: number; readonly candidate: number };
  readonly versions: { readonly live: string | null; readonly candidate: string | null };
  /** The first few failures (a replayed request a color did not answer with 200), for the report's notes. */
  readonly problems: readonly string[];
}

/** Replayed requests in flight at once, per color: enough to finish quickly, too few to load a color. */
export const REPLAY_CONCURRENCY = 4;
const PROBLEMS_KEPT = 3;
/** The whole ring buffer of a color (PREDICTION_LOG_SIZE is at most 100,000). */
const ALL_RECORDS = 100_000;

function requireRequest(colors: ColorAccess): NonNullable<ColorAccess['request']> {
  if (!colors.request) throw new DeployError('DIFF_UNAVAILABLE', "This backend does not reach the colors' admin routes yet.");
  return colors.request.bind(colors);
}

/** Which records to read of one process: those after its record `after` (by its `seq`), at most `limit`. */
export interface RecordsPage {
  readonly after?: number;
  readonly limit?: number;
}

/**
 * The processes of a color that each keep their own records (pods, as `instances` names them), or
 * `[undefined]` where the color is one process that `request` reaches.
 */
export async function recordKeepers(colors: ColorAccess, color: Color): Promise<readonly (string | undefined)[]> {
  if (!colors.instances) return [undefined];
  const instances = await colors.instances(color);
  if (instances.length === 0)
    throw new DeployError('DIFF_UNAVAILABLE', `${color} has no ready process to read GET ${PREDICTIONS_ADMIN_PATH} from; is it running?`);
  return instances;
}

/**
 * A color's records (GET /admin/predictions): from its own socket, or, where a color is several
 * processes (pods), from each of them, joined in time order. Each process numbers its own records
 * (`seq`); request ids are what joins them with the other color's.
 */
export async function readRecords(colors: ColorAccess, color: Color, page: RecordsPage = {}): Promise<PredictionsResponse> {
  const keepers = await recordKeepers(colors, color);
  const answers = await Promise.all(keepers.map((instance) => readProcessRecords(colors, color, instance, page)));
  return joinRecords(answers);
}

/** Several processes' records as one color's: counts added up, records in time order. Pure. */
export function joinRecords(answers: readonly PredictionsResponse[]): PredictionsResponse {
  const [first] = answers;
  if (!first) throw new Error('joinRecords needs at least one answer');
  if (answers.length === 1) return first;
  return {
    color: first.color,
    // A color mid-rollout answers with two versions; the newest process's is the one a diff is about.
    version: answers.at(-1)?.version ?? first.version,
    capacity: answers.reduce((sum, answer) => sum + answer.capacity, 0),
    recorded: answers.reduce((sum, answer) => sum + answer.recorded, 0),
    records: inTimeOrder(answers.map((answer) => answer.records)),
  };
}

/** Several processes' records as one list in time order (each process' own order kept: the sort is stable). Pure. */
export function inTimeOrder(lists: readonly (readonly PredictionRecord[])[]): PredictionRecord[] {
  return lists.flat().sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
}

/** One process' records (`instance`: as `instances` names it; absent where the color is one process): all it keeps, or a page. */
export async function readProcessRecords(
  colors: ColorAccess,
  color: Color,
  instance: string | undefined,
  page: RecordsPage = {},
): Promise<PredictionsResponse> {
  const request = requireRequest(colors);
  const where = instance === undefined ? color : `${color} (${instance})`;
  const query = `${page.after === undefined ? '' : `after=${page.after}&`}limit=${page.limit ?? ALL_RECORDS}`;
  let answer;
  try {
    answer = await request(color, { method: 'GET', path: `${PREDICTIONS_ADMIN_PATH}?${query}` }, instance);
  } catch (error) {
    throw new DeployError(
      'DIFF_UNAVAILABLE',
      `${where} did not answer GET ${PREDICTIONS_ADMIN_PATH} (${(error as Error).message}); is it running?`,
    );
  }
  const parsed = answer.status === 200 ? PredictionsResponse.safeParse(JSON.parse(answer.body)) : undefined;
  if (!parsed?.success) {
    throw new DeployError(
      'DIFF_UNAVAILABLE',
      `${where} answered GET ${PREDICTIONS_ADMIN_PATH} with ${answer.status}: ${answer.body.slice(0, 200)}. A service built before prediction records existed has no such route: rebuild it and release it again.`,
    );
  }
  return parsed.data;
}

/** The live color's live records joined with the candidate's shadow records (mirrored by nginx). */
export async function shadowPairs(colors: ColorAccess, live: Color, candidate: Color): Promise<CollectedPairs> {
  const [liveRecords, candidateRecords] = await Promise.all([readRecords(colors, live), readRecords(colors, candidate)]);
  const { pairs, unpaired } = pairRecords(liveRecords.records, candidateRecords.records);
  const problems =
    candidateRecords.capacity === 0
      ? [`${candidate} keeps no records (PREDICTION_LOG_SIZE=0)`]
      : liveRecords.capacity === 0
        ? [`${live} keeps no records (PREDICTION_LOG_SIZE=0)`]
        : [];
  return { pairs, unpaired, versions: { live: liveRecords.version, candidate: candidateRecords.version }, problems };
}

/**
 * Sends each body to both colors directly (their own sockets, not nginx), with one request id per
 * body and the shadow header (so the copies never count as live traffic), and pairs the answers.
 */
export async function replayPairs(
  colors: ColorAccess,
  live: Color,
  candidate: Color,
  bodies: readonly string[],
  progress?: (line: string) => void,
): Promise<CollectedPairs> {
  const request = requireRequest(colors);
  const run = randomUUID().slice(0, 8);
  const pairs: PredictionPair[] = [];
  const problems: string[] = [];
  const unpaired = { live: 0, candidate: 0 };
  const versions: { live: string | null; candidate: string | null } = { live: null, candidate: null };

  const send = async (color: Color, body: string, requestId: string): Promise<(AnswerSide & { version: string }) | string> => {
    const started = performance.now();
    try {
      const answer = await request(color, {
        method: 'POST',
        path: '/predict',
        body,
        headers: { 'X-Request-Id': requestId, [SHADOW_HEADER]: 'replay' },
      });
      const latencyMs = performance.now() - started;
      const parsed = answer.status === 200 ? AnyPredictResponse.safeParse(JSON.parse(answer.body)) : undefined;
      if (!parsed?.success) return `${color} answered ${answer.status}: ${answer.body.slice(0, 120)}`;
      return { ...predictionOutputs(parsed.data), latencyMs, version: parsed.data.model_version };
    } catch (error) {
      return `${color}: no answer (${(error as Error).message})`;
    }
  };

  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < bodies.length) {
      const index = next++;
      const body = bodies[index] ?? '';
      const requestId = `replay-${run}-${index + 1}`;
      const [fromLive, fromCandidate] = await Promise.all([send(live, body, requestId), send(candidate, body, requestId)]);
      if (typeof fromLive === 'string' || typeof fromCandidate === 'string') {
        for (const [side, result] of [
          ['live', fromLive],
          ['candidate', fromCandidate],
        ] as const) {
          if (typeof result === 'string') {
            if (problems.length < PROBLEMS_KEPT) problems.push(`line ${index + 1}: ${result}`);
          } else unpaired[side] += 1;
        }
      } else {
        versions.live = fromLive.version;
        versions.candidate = fromCandidate.version;
        pairs.push({ requestId, live: fromLive, candidate: fromCandidate });
      }
      done += 1;
      if (progress && done % 500 === 0) progress(`replayed ${done} of ${bodies.length} bodies`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(REPLAY_CONCURRENCY, bodies.length) }, worker));
  return { pairs, unpaired, versions, problems };
}
