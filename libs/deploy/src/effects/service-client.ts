import { AnyPredictResponse, HealthResponse, type HealthView } from '@mlbg/contract';
import type { HttpAnswer, HttpClient, HttpTarget } from './deps';

/**
 * The one client of the model service's /health and /predict: every command, gate, readiness
 * wait and status line reads answers through these, so "healthy" means the same everywhere.
 */

/** One answer to GET /health, judged. */
export type HealthCheck =
  | { readonly kind: 'ok'; readonly health: HealthResponse; readonly answer: HttpAnswer }
  /** It answered, but not 200 "ok" (starting, draining, broken, or not the service at all). */
  | { readonly kind: 'unhealthy'; readonly health: HealthResponse | undefined; readonly answer: HttpAnswer; readonly problem: string }
  | { readonly kind: 'no-answer'; readonly problem: string; readonly code: string | undefined };

/** A health check that got an answer. */
export type AnsweredHealth = Exclude<HealthCheck, { kind: 'no-answer' }>;

/** Judges an answer to GET /health, however it was obtained (direct, through nginx, `docker exec`). Pure. */
export function judgeHealth(answer: HttpAnswer): AnsweredHealth {
  const health = parseBody(answer.body, HealthResponse);
  if (answer.status === 200 && health?.status === 'ok') return { kind: 'ok', health, answer };
  const problem = `answered ${answer.status}${health ? ` with status "${health.status}"` : `: ${errorText(answer.body)}`}`;
  return { kind: 'unhealthy', health, answer, problem };
}

/** The check for a request that got no answer at all. */
export function noAnswer(error: unknown): HealthCheck {
  const code = (error as NodeJS.ErrnoException).code;
  // A DeployError's detail, without its catalogue sentence (e.g. the failed `docker compose exec`).
  const detail = (error as { detail?: unknown }).detail;
  return { kind: 'no-answer', problem: `no answer (${typeof detail === 'string' ? detail : (error as Error).message})`, code };
}

/** GET /health of a color (or of nginx), judged. Never rejects. */
export async function checkHealth(http: HttpClient, target: HttpTarget, path = '/health', timeoutMs = 3_000): Promise<HealthCheck> {
  try {
    return judgeHealth(await http(target, { method: 'GET', path, timeoutMs }));
  } catch (error) {
    return noAnswer(error);
  }
}

/** Who answered a /health: the X-Color header (set by every answer of the service), else the body. */
export function answeredBy(check: HealthCheck): string | undefined {
  if (check.kind === 'no-answer') return undefined;
  return check.answer.headers['x-color'] ?? check.health?.color;
}

/** One answer to POST /predict, judged against the rows sent. */
export type PredictCheck =
  | { readonly kind: 'ok'; readonly response: AnyPredictResponse; readonly answer: HttpAnswer }
  | { readonly kind: 'failed'; readonly problem: string };

/** Judges an answer to POST /predict of `rows` rows, from any kind of model (regression, several targets, classifier). Pure. */
export function judgePredict(answer: HttpAnswer, rows: number): PredictCheck {
  const response = parseBody(answer.body, AnyPredictResponse);
  if (answer.status !== 200 || !response) return { kind: 'failed', problem: `answered ${answer.status}: ${answer.body.slice(0, 200)}` };
  if (response.predictions.length !== rows)
    return { kind: 'failed', problem: `gave ${response.predictions.length} prediction(s) for ${rows} rows` };
  const numbers = 'probabilities' in response ? response.probabilities.flat() : response.predictions.flat();
  if (!numbers.every(Number.isFinite))
    return { kind: 'failed', problem: `answered values that are not finite numbers (NaN or Infinity): ${answer.body.slice(0, 200)}` };
  return { kind: 'ok', response, answer };
}

/** `{"features": [[1],[2],[3]]}` (the original README's request), widened to the model's feature count. */
export function sampleRows(featureCount: number): number[][] {
  return [1, 2, 3].map((value) => Array.from({ length: featureCount }, () => value));
}

/** What a status line shows of one /health (the contract's: `deploy:status --json` carries it). */
export type { HealthView } from '@mlbg/contract';

/** The status view of a health check. Pure. */
export function healthView(check: HealthCheck): HealthView {
  if (check.kind === 'no-answer') {
    const error =
      check.code === 'ECONNREFUSED' || check.code === 'ENOENT'
        ? 'connection refused (not running)'
        : check.problem.replace(/^no answer \((.*)\)$/s, '$1');
    return { ok: false, httpStatus: null, status: null, version: null, color: null, featureCount: null, error };
  }
  const { health, answer } = check;
  return {
    ok: check.kind === 'ok',
    httpStatus: answer.status,
    status: health?.status ?? null,
    version: health?.version ?? null,
    color: answeredBy(check) ?? null,
    featureCount: health?.feature_count ?? null,
    ...(health ? {} : { error: errorText(answer.body) }),
  };
}

function parseBody<T>(text: string, schema: { safeParse(value: unknown): { success: true; data: T } | { success: false } }): T | undefined {
  try {
    const result = schema.safeParse(JSON.parse(text));
    return result.success ? result.data : undefined;
  } catch {
    return undefined;
  }
}

/** The `detail` of the service's (or nginx's) JSON error, else the start of the body. */
function errorText(body: string): string {
  try {
    const detail = (JSON.parse(body) as { detail?: unknown }).detail;
    if (typeof detail === 'string') return detail;
  } catch {
    // not JSON
  }
  return body.slice(0, 200);
}
