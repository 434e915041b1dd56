import { ENDPOINT_NAMES, type EndpointName } from './endpoints';

/** How a bench run is set up (`nx run bench:run -- --help`). */
export interface BenchOptions {
  readonly quick: boolean;
  readonly json: boolean;
  readonly help: boolean;
  readonly connections: readonly number[];
  /** Seconds of one measured run; each case has `repeats` runs per side, service and baseline alternating. */
  readonly durationSeconds: number;
  readonly repeats: number;
  /** Seconds of unmeasured load on each side before a case's runs. */
  readonly warmupSeconds: number;
  readonly switches: number;
  /** Keep-alive connections during the switches. */
  readonly switchConnections: number;
  readonly endpoints: readonly EndpointName[];
  /** An already running stack: its router (nginx) URL, and a color's own URL for the direct cases. */
  readonly url?: string;
  readonly blueUrl?: string;
  /** An already running local stack's state folder: measured, switched and read for memory; never stopped. */
  readonly stateDir?: string;
  /** Model for the baseline when the bench does not know the live color's (with --url). */
  readonly model?: string;
  /** Seconds to wait after the load before the `settled` memory snapshot (V8 gives memory back when idle); 0 = none. */
  readonly settleSeconds: number;
  /** A workspace whose built service (dist/apps/model-service) the started stack runs: to compare two builds. */
  readonly serviceRoot?: string;
  /** LOG_LEVEL of the services of the stack the bench starts. */
  readonly logLevel: string;
  /** Where the JSON result goes; default tools/bench/results/bench-<time>.json. */
  readonly out?: string;
  /** Also write tools/bench/results/reference.json. */
  readonly reference: boolean;
  /** Print the report of a saved result file instead of running. */
  readonly render?: string;
}

export const DEFAULT_OPTIONS: BenchOptions = {
  quick: false,
  json: false,
  help: false,
  connections: [1, 32],
  durationSeconds: 3,
  repeats: 5,
  warmupSeconds: 1,
  switches: 20,
  switchConnections: 32,
  settleSeconds: 20,
  endpoints: ENDPOINT_NAMES,
  logLevel: 'warn',
  reference: false,
};

/** `--quick`: a smoke run of well under a minute (CI): every case once, briefly, at 32 connections. */
export const QUICK_OPTIONS: Partial<BenchOptions> = {
  connections: [32],
  durationSeconds: 1,
  repeats: 1,
  warmupSeconds: 0.5,
  switches: 4,
  settleSeconds: 0,
};

export const USAGE = `nx run bench:run [-- options]     (or: node -r @swc-node/register tools/bench/src/main.ts [options])

Starts the real local stack (both colors + nginx, via the deploy library, in a temporary state folder
on free ports) and the bare baseline (node:http + onnxruntime, direct and behind an nginx with the
same generated config), loads both with autocannon, switches traffic under load, and reports.

  --quick                 a smoke run: 1 s per case, 32 connections, 4 switches (CI)
  --connections=1,32      keep-alive connections per case             (default 1,32)
  --duration=S            seconds per measured run                     (default 3)
  --repeats=N             runs per case and side, alternating          (default 5)
  --warmup=S              unmeasured seconds per case and side         (default 1)
  --switches=N            switches under load through nginx            (default 20)
  --endpoints=LIST        any of ${ENDPOINT_NAMES.join(',')}
  --settle=S              wait S s after the load, then read memory again  (default 20; 0 = no)
  --log-level=L           LOG_LEVEL of the services the bench starts   (default warn)
  --url=URL               measure a running stack's router (nginx) instead of starting one
  --blue-url=URL          ... and a color (any running service) directly; alone: direct cases only
  --state-dir=DIR         measure (and switch) a running local stack from its state folder
  --service-root=DIR      start the stack from another workspace's build (e.g. an older commit's), to compare
  --model=PATH            the baseline's model with --url             (default models/v1.0.0/model.onnx)
  --out=FILE              the JSON result                             (default tools/bench/results/bench-<time>.json)
  --reference             also write tools/bench/results/reference.json
  --json                  print the JSON result instead of the tables (progress goes to stderr)
  --render=FILE           print the report of a saved result (e.g. tools/bench/results/reference.json); runs nothing
  --help`;

export type ParsedArgs = { ok: true; options: BenchOptions } | { ok: false; message: string };

const BOOLEAN_FLAGS = new Set(['quick', 'json', 'help', 'reference']);
const VALUE_FLAGS = new Set([
  'connections',
  'duration',
  'repeats',
  'warmup',
  'switches',
  'settle',
  'switch-connections',
  'endpoints',
  'url',
  'blue-url',
  'state-dir',
  'model',
  'log-level',
  'out',
  'service-root',
  'render',
]);

/** Parses `--name`, `--name=value` and `--name value`; booleans also take `=true` / `=false` (as Nx forwards them). Pure. */
export function parseBenchArgs(argv: readonly string[]): ParsedArgs {
  const raw = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i];
    const match = /^--([a-z-]+)(?:=(.*))?$/s.exec(token);
    if (!match) return { ok: false, message: `unexpected argument "${token}"` };
    const [, name, inline] = match;
    if (BOOLEAN_FLAGS.has(name)) {
      if (inline !== undefined && inline !== 'true' && inline !== 'false')
        return { ok: false, message: `--${name} takes no value (or true/false)` };
      raw.set(name, inline ?? 'true');
    } else if (VALUE_FLAGS.has(name)) {
      const value = inline ?? argv[++i];
      if (value === undefined || value === '') return { ok: false, message: `--${name} needs a value` };
      raw.set(name, value);
    } else {
      return { ok: false, message: `unknown option --${name}` };
    }
  }

  const quick = raw.get('quick') === 'true';
  const base: BenchOptions = { ...DEFAULT_OPTIONS, ...(quick ? QUICK_OPTIONS : {}), quick };
  const problems: string[] = [];
  const positive = (name: string, fallback: number, integer: boolean): number => {
    const text = raw.get(name);
    if (text === undefined) return fallback;
    const value = Number(text);
    if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
      problems.push(`--${name} must be a ${integer ? 'whole ' : ''}number above 0 (got "${text}")`);
      return fallback;
    }
    return value;
  };
  const connections = raw.has('connections')
    ? (raw.get('connections') ?? '').split(',').map((part) => {
        const value = Number(part.trim());
        if (!Number.isInteger(value) || value < 1) problems.push(`--connections takes whole numbers above 0, e.g. 1,32 (got "${part}")`);
        return value;
      })
    : base.connections;
  const endpoints = raw.has('endpoints')
    ? (raw.get('endpoints') ?? '').split(',').map((part) => {
        const name = part.trim() as EndpointName;
        if (!ENDPOINT_NAMES.includes(name)) problems.push(`--endpoints takes ${ENDPOINT_NAMES.join(', ')} (got "${part}")`);
        return name;
      })
    : base.endpoints;
  const url = raw.get('url');
  const blueUrl = raw.get('blue-url');
  const stateDir = raw.get('state-dir');
  if ((url || blueUrl) && stateDir) problems.push('give either --url/--blue-url or --state-dir, not both');
  if (raw.has('service-root') && (url || blueUrl || stateDir))
    problems.push('--service-root is for the stack the bench starts, not with --url or --state-dir');
  for (const [name, value] of [
    ['url', url],
    ['blue-url', blueUrl],
  ] as const) {
    if (value !== undefined && !/^http:\/\/[^/]+\/?$/.test(value))
      problems.push(`--${name} must be an http://host:port URL (got "${value}")`);
  }
  const options: BenchOptions = {
    ...base,
    json: raw.get('json') === 'true',
    help: raw.get('help') === 'true',
    reference: raw.get('reference') === 'true',
    connections,
    durationSeconds: positive('duration', base.durationSeconds, false),
    repeats: positive('repeats', base.repeats, true),
    warmupSeconds: raw.get('warmup') === '0' ? 0 : positive('warmup', base.warmupSeconds, false),
    switches: raw.get('switches') === '0' ? 0 : positive('switches', base.switches, true),
    switchConnections: positive('switch-connections', base.switchConnections, true),
    settleSeconds: raw.get('settle') === '0' ? 0 : positive('settle', base.settleSeconds, false),
    endpoints,
    logLevel: raw.get('log-level') ?? base.logLevel,
    ...(url ? { url: url.replace(/\/$/, '') } : {}),
    ...(blueUrl ? { blueUrl: blueUrl.replace(/\/$/, '') } : {}),
    ...(stateDir ? { stateDir } : {}),
    ...(raw.has('model') ? { model: raw.get('model') } : {}),
    ...(raw.has('service-root') ? { serviceRoot: raw.get('service-root') } : {}),
    ...(raw.has('render') ? { render: raw.get('render') } : {}),
    ...(raw.has('out') ? { out: raw.get('out') } : {}),
  };
  return problems.length > 0 ? { ok: false, message: problems.join('; ') } : { ok: true, options };
}
