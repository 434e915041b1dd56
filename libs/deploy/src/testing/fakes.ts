import { type Color, type ModelSignature, otherColor } from '@mlbg/contract';
import type { Clock, CommandResult, CommandRunner, HttpAnswer } from '../effects/deps';
import type { Backend } from '../backends/backend';
import { routesWithLive, soleTarget } from '../routing/routes';

/** A clock whose sleep returns at once and moves time forward. */
export function fakeClock(start = 1_000_000): Clock & { slept: number[] } {
  let now = start;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    sleep: async (ms) => {
      slept.push(ms);
      now += ms;
    },
  };
}

export interface FakeColor {
  version: string;
  featureCount: number;
  /** /health status code (200 = ok); 'down' = no answer at all. */
  health?: number | 'down';
  /** Who answers on this color's socket (default: the color itself). */
  answersAs?: Color;
  /** /predict status code (default 200). */
  predict?: number;
  /** What /health reports as the model's signature (older services report none). */
  signature?: ModelSignature;
}

export function answer(status: number, body: unknown, headers: Record<string, string> = {}): HttpAnswer {
  return { status, headers, body: JSON.stringify(body) };
}

function healthBody(color: Color, fake: FakeColor, ok: boolean) {
  return {
    status: ok ? 'ok' : 'draining',
    version: fake.version,
    color,
    feature_count: fake.featureCount,
    model_sha256: 'x',
    uptime_seconds: 1,
    ...(fake.signature ? { signature: fake.signature } : {}),
  };
}

/**
 * A deployment in memory: two colors, a live route, and nginx answering as the live color unless
 * told otherwise. Records every move of the live route.
 */
export function fakeBackend(options: {
  live: Color;
  colors: Record<Color, FakeColor>;
  /** Overrides what nginx answers after a move (e.g. to make the verification fail). */
  router?: (live: Color) => HttpAnswer | Error | undefined;
  /** Make moving the live route fail (for the given target color). */
  failPointAt?: (color: Color) => boolean;
  recorded?: Partial<Record<Color, { version?: string; featureCount?: number }>>;
}): Backend & { moves: Color[]; live: () => Color } {
  let live = options.live;
  const moves: Color[] = [];
  const healthOf = async (color: Color): Promise<HttpAnswer> => {
    const fake = options.colors[color];
    if (fake.health === 'down') throw Object.assign(new Error(`connect ECONNREFUSED ${color}.sock`), { code: 'ECONNREFUSED' });
    const status = fake.health ?? 200;
    return answer(status, healthBody(fake.answersAs ?? color, fake, status === 200), { 'x-color': fake.answersAs ?? color });
  };
  const lifecycle = async (): Promise<never> => {
    throw new Error('the fake backend has no lifecycle: it only routes and answers');
  };
  return {
    kind: 'local',
    routerUrl: 'http://127.0.0.1:8080',
    moves,
    live: () => live,
    up: lifecycle,
    down: lifecycle,
    release: lifecycle,
    status: lifecycle,
    readRoutes: async () => routesWithLive(live),
    setRoutes: async (routes) => {
      const color = soleTarget(routes.live) ?? live;
      if (options.failPointAt?.(color)) throw new Error(`EACCES: rename live.sock.next -> live.sock (${color})`);
      live = color;
      moves.push(color);
    },
    routerHealth: async (route = 'live') => {
      if (route === 'preview') return healthOf(otherColor(live));
      const override = options.router?.(live);
      if (override instanceof Error) throw override;
      if (override) return override;
      return healthOf(live);
    },
    colors: {
      health: healthOf,
      predict: async (color, body) => {
        const fake = options.colors[color];
        if (fake.health === 'down') throw new Error('connect ECONNREFUSED');
        const rows = (JSON.parse(body) as { features: number[][] }).features;
        const status = fake.predict ?? 200;
        return status === 200
          ? answer(200, { predictions: rows.map((row) => row[0] ?? 0), model_version: fake.version })
          : answer(status, { detail: 'broken', code: 'X' });
      },
      recorded: (color) => options.recorded?.[color],
    },
  };
}

/** A command runner that records each call and answers from a script (first matching rule wins). */
export function recordingRunner(
  rules: { match: (line: string) => boolean; result: Partial<CommandResult> | ((line: string) => Partial<CommandResult>) }[],
): CommandRunner & {
  calls: { command: string; args: string[]; cwd?: string }[];
  lines: () => string[];
} {
  const calls: { command: string; args: string[]; cwd?: string }[] = [];
  const run = (async (command: string, args: readonly string[], options?: { cwd?: string }) => {
    calls.push({ command, args: [...args], ...(options?.cwd ? { cwd: options.cwd } : {}) });
    const line = [command, ...args].join(' ');
    const rule = rules.find((candidate) => candidate.match(line));
    const result = rule
      ? typeof rule.result === 'function'
        ? rule.result(line)
        : rule.result
      : { code: 127, error: `no scripted answer for: ${line}` };
    return { code: 0, stdout: '', stderr: '', ...result };
  }) as CommandRunner & { calls: typeof calls; lines: () => string[] };
  run.calls = calls;
  run.lines = () => calls.map((call) => [call.command, ...call.args].join(' '));
  return run;
}
