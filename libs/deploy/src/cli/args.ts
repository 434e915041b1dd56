import { Color } from '@mlbg/contract';
import { parseArgs } from 'node:util';
import { BackendKind } from '../history/history';
import { MAX_CAPTURE_BODIES } from '../backends/local/shadow/relay/relay';

/** `dashboard`'s defaults: loopback only, Argo Rollouts' dashboard port. */
const DASHBOARD_HOST = '127.0.0.1';
const DASHBOARD_PORT = 3100;

/** The service's log levels (its LOG_LEVEL). */
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const COMMAND_NAMES = [
  'up',
  'down',
  'status',
  'switch',
  'rollback',
  'release',
  'canary',
  'promote',
  'shadow',
  'diff',
  'capture',
  'judge',
  'dashboard',
  'help',
] as const;
export type CommandName = (typeof COMMAND_NAMES)[number];

interface Common {
  readonly json: boolean;
  /** As given (flag or BLUEGREEN_STATE_DIR); undefined = `.bluegreen` at the workspace root. */
  readonly stateDir: string | undefined;
  /** Which deployment: `--backend` (or its older name `--target`, or BLUEGREEN_BACKEND); default local. */
  readonly backend: BackendKind;
  /** `--backend=kubernetes` only: the kubeconfig context (default: its current one) and the namespace (default: the spec's). */
  readonly kubeContext?: string;
  readonly namespace?: string;
}

/** The prediction-diff limits given as flags (`switch`, `canary` and `diff`); undefined = the spec's. */
export interface DiffFlags {
  /** --max-diff: the absolute tolerance of one value. */
  readonly maxDiff?: number;
  readonly relTolerance?: number;
  /** 0..1 (--min-agreement=0.95 or 95%). */
  readonly minAgreement?: number;
  readonly minPairs?: number;
  /** --replay: a JSON Lines file of /predict bodies, as given (relative to the current folder). */
  readonly replay?: string;
}

/** A parsed, validated command line. */
export type Command =
  | { readonly name: 'help'; readonly json: boolean }
  | (Common & {
      readonly name: 'up';
      readonly ports: { readonly routerPort?: number; readonly bluePort?: number; readonly greenPort?: number };
      readonly models: Partial<Record<Color, string>>;
      readonly logLevel?: string;
      readonly timeoutMs?: number;
    })
  | (Common & { readonly name: 'down'; readonly reset: boolean; readonly timeoutMs?: number })
  | (Common & { readonly name: 'status' })
  | (Common & { readonly name: 'switch'; readonly color?: Color; readonly expectVersion?: string; readonly diff?: DiffFlags })
  | (Common & { readonly name: 'shadow'; readonly action: 'on' | 'off' | 'status'; readonly percent?: number; readonly queueSize?: number })
  | (Common & { readonly name: 'diff'; readonly diff: DiffFlags })
  | (Common & { readonly name: 'capture'; readonly n: number; readonly out: string; readonly timeoutMs?: number })
  | (Common & { readonly name: 'rollback' })
  | (Common & {
      readonly name: 'canary';
      readonly mode: 'start' | 'resume' | 'abort';
      readonly color?: Color;
      readonly steps?: readonly number[];
      readonly intervalSeconds?: number;
      readonly keep: boolean;
      /** The version the canary color must answer with (the preflight refuses otherwise), as for switch. */
      readonly expectVersion?: string;
      /** The prediction-diff gate in the canary's preflight, as for switch. */
      readonly diff?: DiffFlags;
    })
  | (Common & { readonly name: 'promote' })
  | (Common & {
      readonly name: 'release';
      readonly model?: string;
      readonly image?: string;
      readonly color?: Color;
      readonly switch: boolean;
      readonly expectVersion?: string;
      readonly timeoutMs?: number;
    })
  | (Common & {
      readonly name: 'judge';
      /** Judge these two URLs (a Job in the cluster: the preview and the active Service) instead of the backend's colors. */
      readonly urls?: { readonly canary: string; readonly stable: string };
      /** A JSON Lines file of /predict bodies, as given (relative to the current folder). */
      readonly replay?: string;
      readonly requests?: number;
    })
  | (Common & { readonly name: 'dashboard'; readonly host: string; readonly port: number; readonly readOnly: boolean });

export type ParseResult =
  { readonly ok: true; readonly command: Command } | { readonly ok: false; readonly message: string; readonly json: boolean };

type OptionKind = { type: 'string' } | { type: 'boolean'; short?: string };
// `--target` is the option's first name, kept for scripts; through `nx run` only `--backend` works (Nx takes `--target` for itself).
const COMMON_OPTIONS = {
  json: { type: 'boolean' },
  'state-dir': { type: 'string' },
  backend: { type: 'string' },
  target: { type: 'string' },
  context: { type: 'string' },
  namespace: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} satisfies Record<string, OptionKind>;
const TIMEOUT = { timeout: { type: 'string' } } satisfies Record<string, OptionKind>;
const DIFF_OPTIONS = {
  'max-diff': { type: 'string' },
  'rel-tolerance': { type: 'string' },
  'min-agreement': { type: 'string' },
  'min-pairs': { type: 'string' },
  replay: { type: 'string' },
} satisfies Record<string, OptionKind>;

const OPTIONS = {
  up: {
    ...COMMON_OPTIONS,
    ...TIMEOUT,
    'router-port': { type: 'string' },
    'blue-port': { type: 'string' },
    'green-port': { type: 'string' },
    'blue-model': { type: 'string' },
    'green-model': { type: 'string' },
    'log-level': { type: 'string' },
  },
  down: { ...COMMON_OPTIONS, ...TIMEOUT, reset: { type: 'boolean' } },
  status: { ...COMMON_OPTIONS },
  switch: { ...COMMON_OPTIONS, ...DIFF_OPTIONS, color: { type: 'string' }, 'expect-version': { type: 'string' } },
  shadow: { ...COMMON_OPTIONS, percent: { type: 'string' }, 'queue-size': { type: 'string' } },
  diff: { ...COMMON_OPTIONS, ...DIFF_OPTIONS },
  capture: { ...COMMON_OPTIONS, ...TIMEOUT, n: { type: 'string' }, out: { type: 'string' } },
  rollback: { ...COMMON_OPTIONS },
  release: {
    ...COMMON_OPTIONS,
    ...TIMEOUT,
    model: { type: 'string' },
    image: { type: 'string' },
    color: { type: 'string' },
    switch: { type: 'boolean' },
    'expect-version': { type: 'string' },
  },
  canary: {
    ...COMMON_OPTIONS,
    ...DIFF_OPTIONS,
    color: { type: 'string' },
    'expect-version': { type: 'string' },
    steps: { type: 'string' },
    interval: { type: 'string' },
    abort: { type: 'boolean' },
    resume: { type: 'boolean' },
    keep: { type: 'boolean' },
  },
  promote: { ...COMMON_OPTIONS },
  judge: {
    ...COMMON_OPTIONS,
    'canary-url': { type: 'string' },
    'stable-url': { type: 'string' },
    replay: { type: 'string' },
    requests: { type: 'string' },
  },
  dashboard: { ...COMMON_OPTIONS, host: { type: 'string' }, port: { type: 'string' }, 'read-only': { type: 'boolean' } },
  help: { ...COMMON_OPTIONS },
} as const satisfies Record<CommandName, Record<string, OptionKind>>;

/** Environment variables each flag falls back to (flags win). */
export const ENV_FALLBACKS: Readonly<Record<string, string>> = {
  'state-dir': 'BLUEGREEN_STATE_DIR',
  'router-port': 'BLUEGREEN_ROUTER_PORT',
  'blue-port': 'BLUEGREEN_BLUE_PORT',
  'green-port': 'BLUEGREEN_GREEN_PORT',
  'blue-model': 'BLUEGREEN_BLUE_MODEL',
  'green-model': 'BLUEGREEN_GREEN_MODEL',
  'log-level': 'BLUEGREEN_LOG_LEVEL',
  backend: 'BLUEGREEN_BACKEND',
  target: 'BLUEGREEN_TARGET',
  context: 'BLUEGREEN_KUBE_CONTEXT',
  namespace: 'BLUEGREEN_NAMESPACE',
  host: 'BLUEGREEN_DASHBOARD_HOST',
  port: 'BLUEGREEN_DASHBOARD_PORT',
};

class UsageError extends Error {}

/**
 * Parses `<command> [flags]` (node:util parseArgs, strict), with BLUEGREEN_* variables as
 * fallbacks for flags. Pure: argv and env in, a command or a usage message out.
 */
export function parseCommandLine(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): ParseResult {
  const json = argv.includes('--json');
  const [first, ...rest] = argv;
  if (first === undefined || first === '--help' || first === '-h') return { ok: true, command: { name: 'help', json } };
  if (!(COMMAND_NAMES as readonly string[]).includes(first)) {
    return { ok: false, json, message: `unknown command "${first}"; the commands are ${COMMAND_NAMES.join(', ')}` };
  }
  const name = first as CommandName;
  try {
    const { values, positionals } = parseArgs({ args: [...rest], options: OPTIONS[name], strict: true, allowPositionals: true });
    const raw = values as Record<string, string | boolean | undefined>;
    if (raw['help'] || name === 'help') return { ok: true, command: { name: 'help', json } };
    const text = (option: string): { value: string; from: string } | undefined => {
      const flag = raw[option];
      if (typeof flag === 'string') return { value: flag, from: `--${option}` };
      const variable = ENV_FALLBACKS[option];
      const fromEnv = variable ? env[variable] : undefined;
      return variable && fromEnv !== undefined && fromEnv !== '' ? { value: fromEnv, from: variable } : undefined;
    };
    const backendFlag = text('backend');
    const targetFlag = text('target');
    if (backendFlag && targetFlag && backendFlag.value !== targetFlag.value)
      throw new UsageError(`${backendFlag.from}=${backendFlag.value} and ${targetFlag.from}=${targetFlag.value} disagree; give one`);
    const backend = backendKind(backendFlag ?? targetFlag);
    const kubeContext = text('context');
    const namespace = text('namespace');
    if (backend !== 'kubernetes' && (kubeContext || namespace))
      throw new UsageError(`${(kubeContext ?? namespace)?.from} is for --backend=kubernetes only`);
    if (namespace && !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(namespace.value))
      throw new UsageError(
        `${namespace.from} must be a Kubernetes namespace (lowercase letters, digits and "-"), not "${namespace.value}"`,
      );
    if (backend === 'kubernetes' && (name === 'up' || name === 'down')) {
      throw new UsageError(
        `${name} does not manage a cluster: install with \`kubectl apply -k deploy/kubernetes\`, remove with \`kubectl delete -k deploy/kubernetes\``,
      );
    }
    const common: Common = {
      json,
      stateDir: text('state-dir')?.value,
      backend,
      ...dropUndefined({ kubeContext: kubeContext?.value, namespace: namespace?.value }),
    };

    const extra = name === 'switch' || name === 'shadow' ? positionals.slice(1) : positionals;
    if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);

    switch (name) {
      case 'up':
        return {
          ok: true,
          command: {
            name,
            ...common,
            ports: dropUndefined({
              routerPort: port(text('router-port')),
              bluePort: port(text('blue-port')),
              greenPort: port(text('green-port')),
            }),
            models: dropUndefined({ blue: text('blue-model')?.value, green: text('green-model')?.value }),
            ...dropUndefined({ logLevel: logLevel(text('log-level')), timeoutMs: seconds(text('timeout')) }),
          },
        };
      case 'down':
        return {
          ok: true,
          command: { name, ...common, reset: raw['reset'] === true, ...dropUndefined({ timeoutMs: seconds(text('timeout')) }) },
        };
      case 'status':
      case 'rollback':
      case 'promote':
        return { ok: true, command: { name, ...common } };
      case 'canary': {
        const abort = raw['abort'] === true;
        const resume = raw['resume'] === true;
        if (abort && resume) throw new UsageError('--abort and --resume can not go together; give one');
        const mode = abort ? 'abort' : resume ? 'resume' : 'start';
        const flags = { color: text('color'), steps: text('steps'), interval: text('interval'), 'expect-version': text('expect-version') };
        const misplaced = Object.entries(flags).find(([, value]) => value !== undefined);
        if (mode !== 'start' && misplaced)
          throw new UsageError(`--${misplaced[0]} is for starting a canary; --${mode} continues the one in progress`);
        if (abort && raw['keep'] === true)
          throw new UsageError('--keep keeps the weight when the canary is stopped; --abort moves it back');
        const diff = diffFlags(text);
        if (mode !== 'start' && Object.keys(diff).length > 0)
          throw new UsageError(`the prediction-diff flags are for starting a canary; --${mode} continues the one in progress`);
        return {
          ok: true,
          command: {
            name,
            ...common,
            mode,
            keep: raw['keep'] === true,
            ...dropUndefined({
              color: color(flags.color),
              steps: steps(flags.steps),
              intervalSeconds: interval(flags.interval),
              expectVersion: flags['expect-version']?.value,
              diff: Object.keys(diff).length > 0 ? diff : undefined,
            }),
          },
        };
      }
      case 'switch': {
        const flag = text('color');
        const positional = positionals[0] === undefined ? undefined : { value: positionals[0], from: 'the color argument' };
        if (flag && positional && flag.value !== positional.value)
          throw new UsageError(`--color=${flag.value} and the argument "${positional.value}" disagree; give one`);
        const diff = diffFlags(text);
        return {
          ok: true,
          command: {
            name,
            ...common,
            ...dropUndefined({
              color: color(flag ?? positional),
              expectVersion: text('expect-version')?.value,
              diff: Object.keys(diff).length > 0 ? diff : undefined,
            }),
          },
        };
      }
      case 'shadow': {
        const action = positionals[0] ?? 'status';
        if (action !== 'on' && action !== 'off' && action !== 'status')
          throw new UsageError(`say "on", "off" or "status", not "${action}"`);
        const percent = number(text('percent'), { min: 0, max: 100 });
        const queueSize = whole(text('queue-size'), 1);
        if (action !== 'on' && (percent !== undefined || queueSize !== undefined))
          throw new UsageError('--percent and --queue-size go with "on"');
        return { ok: true, command: { name, ...common, action, ...dropUndefined({ percent, queueSize }) } };
      }
      case 'diff':
        return { ok: true, command: { name, ...common, diff: diffFlags(text) } };
      case 'capture': {
        const n = whole(text('n'), 1);
        const out = text('out')?.value;
        if (n === undefined || !out)
          throw new UsageError('capture needs --n=<how many live bodies> and --out=<file.jsonl>, e.g. --n=1000 --out=live.jsonl');
        if (n > MAX_CAPTURE_BODIES) throw new UsageError(`--n must be at most ${MAX_CAPTURE_BODIES}, not ${n}`);
        return { ok: true, command: { name, ...common, n, out, ...dropUndefined({ timeoutMs: seconds(text('timeout')) }) } };
      }
      case 'release': {
        const model = text('model')?.value;
        const image = text('image')?.value;
        if (!model && common.backend === 'local')
          throw new UsageError('release needs --model=<path to an .onnx file>, e.g. --model=models/v1.1.0/model.onnx');
        if (!model && !image) throw new UsageError('release needs --model=<path to an .onnx file> and/or --image=<image reference>');
        const expectVersion = text('expect-version')?.value;
        if (expectVersion && raw['switch'] !== true)
          throw new UsageError('--expect-version goes with --switch: it is the version the switch insists on');
        return {
          ok: true,
          command: {
            name,
            ...common,
            switch: raw['switch'] === true,
            ...dropUndefined({ model, image, expectVersion, color: color(text('color')), timeoutMs: seconds(text('timeout')) }),
          },
        };
      }
      case 'judge': {
        const [canaryUrl, stableUrl] = [text('canary-url'), text('stable-url')];
        if ((canaryUrl === undefined) !== (stableUrl === undefined))
          throw new UsageError(
            '--canary-url and --stable-url go together: the two colors to judge, e.g. http://ml-preview and http://ml-live',
          );
        for (const url of [canaryUrl, stableUrl])
          if (url && !/^http:\/\/[\w.-]+(:\d+)?(\/\S*)?$/.test(url.value))
            throw new UsageError(`${url.from} must be an http:// URL, e.g. http://ml-preview:80, not "${url.value}"`);
        return {
          ok: true,
          command: {
            name,
            ...common,
            ...dropUndefined({
              urls: canaryUrl && stableUrl ? { canary: canaryUrl.value, stable: stableUrl.value } : undefined,
              replay: text('replay')?.value,
              requests: whole(text('requests'), 1),
            }),
          },
        };
      }
      case 'dashboard': {
        const host = text('host')?.value ?? DASHBOARD_HOST;
        if (!/^[\w.:-]+$/.test(host)) throw new UsageError(`--host must be a host name or an IP address, not "${host}"`);
        return {
          ok: true,
          command: { name, ...common, host, port: port(text('port')) ?? DASHBOARD_PORT, readOnly: raw['read-only'] === true },
        };
      }
      default: {
        const unreachable: never = name;
        return unreachable;
      }
    }
  } catch (error) {
    if (error instanceof UsageError) return { ok: false, json, message: `${name}: ${error.message}` };
    const code = (error as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS'))
      return { ok: false, json, message: `${name}: ${(error as Error).message}` };
    throw error;
  }
}

type TextOf = (option: string) => { value: string; from: string } | undefined;

function diffFlags(text: TextOf): DiffFlags {
  const agreement = text('min-agreement');
  const percentText = agreement?.value.endsWith('%') ? { ...agreement, value: agreement.value.slice(0, -1) } : undefined;
  const minAgreement = percentText ? (number(percentText, { min: 0, max: 100 }) ?? 0) / 100 : number(agreement, { min: 0, max: 1 });
  return dropUndefined({
    maxDiff: number(text('max-diff'), { min: 0 }),
    relTolerance: number(text('rel-tolerance'), { min: 0 }),
    minAgreement,
    minPairs: whole(text('min-pairs'), 1),
    replay: text('replay')?.value,
  });
}

function number(input: { value: string; from: string } | undefined, range: { min: number; max?: number }): number | undefined {
  if (!input) return undefined;
  const value = Number(input.value);
  const between = range.max === undefined ? `>= ${range.min}` : `from ${range.min} to ${range.max}`;
  if (input.value.trim() === '' || !Number.isFinite(value) || value < range.min || (range.max !== undefined && value > range.max))
    throw new UsageError(`${input.from} must be a number ${between}, not "${input.value}"`);
  return value;
}

function whole(input: { value: string; from: string } | undefined, min: number): number | undefined {
  if (!input) return undefined;
  if (!/^\d+$/.test(input.value) || Number(input.value) < min)
    throw new UsageError(`${input.from} must be a whole number >= ${min}, not "${input.value}"`);
  return Number(input.value);
}

function port(input: { value: string; from: string } | undefined): number | undefined {
  if (!input) return undefined;
  const value = Number(input.value);
  if (!/^\d+$/.test(input.value) || value < 1 || value > 65_535)
    throw new UsageError(`${input.from} must be a port number from 1 to 65535, not "${input.value}"`);
  return value;
}

function seconds(input: { value: string; from: string } | undefined): number | undefined {
  if (!input) return undefined;
  const value = Number(input.value);
  if (!Number.isFinite(value) || value <= 0)
    throw new UsageError(`${input.from} must be a number of seconds greater than 0, not "${input.value}"`);
  return Math.round(value * 1000);
}

function steps(input: { value: string; from: string } | undefined): number[] | undefined {
  if (!input) return undefined;
  const parts = input.value.split(',').map((part) => part.trim());
  if (parts.some((part) => !/^\d+$/.test(part)))
    throw new UsageError(`${input.from} must be percents separated by commas, e.g. 5,25,50,100, not "${input.value}"`);
  return parts.map(Number);
}

/** `30s`, `2m`, `1500ms` or a plain number of seconds. */
function interval(input: { value: string; from: string } | undefined): number | undefined {
  if (!input) return undefined;
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(input.value);
  if (!match) throw new UsageError(`${input.from} must be a duration such as 30s, 2m or 1500ms, not "${input.value}"`);
  const value = Number(match[1]);
  return match[2] === 'ms' ? value / 1000 : match[2] === 'm' ? value * 60 : value;
}

function color(input: { value: string; from: string } | undefined): Color | undefined {
  if (!input) return undefined;
  const parsed = Color.safeParse(input.value);
  if (!parsed.success)
    throw new UsageError(`unknown color "${input.value}" (${input.from}); the colors are ${Color.options.join(' and ')}`);
  return parsed.data;
}

function backendKind(input: { value: string; from: string } | undefined): BackendKind {
  if (!input) return 'local';
  const parsed = BackendKind.safeParse(input.value);
  if (!parsed.success)
    throw new UsageError(
      `unknown backend "${input.value}" (${input.from}); use ${BackendKind.options.slice(0, -1).join(', ')} or ${BackendKind.options.at(-1)}`,
    );
  return parsed.data;
}

function logLevel(input: { value: string; from: string } | undefined): string | undefined {
  if (!input) return undefined;
  if (!(LOG_LEVELS as readonly string[]).includes(input.value))
    throw new UsageError(`${input.from} must be one of ${LOG_LEVELS.join(', ')}, not "${input.value}"`);
  return input.value;
}

function dropUndefined<T extends object>(values: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as {
    [K in keyof T]: Exclude<T[K], undefined>;
  };
}

/** `help`: every command and flag. */
export const USAGE = `Usage: deploy <command> [flags]     (npx nx run deploy:<command> [flags])

Commands (on the local stack; --backend=compose: the Docker Compose deployment; --backend=kubernetes: a cluster, except up and down):
  up        start blue, green and nginx; print the URLs      [--router-port N] [--blue-port N] [--green-port N]
                                                              [--blue-model P] [--green-model P] [--log-level L] [--timeout S]
  down      stop exactly what up started; idempotent         [--reset] [--timeout S]
  status    the routes, each color's health, what nginx serves, the last switch
  switch    move live traffic to --color (no color: toggle), after the preflight gates; verified through nginx
                                                              [--color blue|green] [--expect-version V]
            with --max-diff, --min-agreement, --min-pairs or --replay: also the prediction-diff gate
  rollback  switch back to the color that was live before the last successful switch (or a promoted canary)
  canary    move a share of live traffic to --color step by step, analysing each interval (nginx's log, /metrics);
            rolls back on failure; Ctrl-C/SIGTERM moves the weight back unless --keep
                                                              [--color C] [--steps 5,25,50,100] [--interval 30s] [--keep] [--expect-version V]
            with --max-diff, --min-agreement, --min-pairs or --replay: also the prediction-diff gate before step 1
            --resume continues an interrupted canary; --abort moves all traffic back to the stable color
  promote   finish the canary now: all live traffic to the canary color (the remaining steps are skipped)
  shadow    on [--percent N] [--queue-size N] | off | status: nginx mirrors that share of live /predict (and V2 infer)
            to the idle color through a relay that answers at once; no reload
  diff      the idle color's predictions against the live color's on the same requests (shadow records, or --replay F)
                                                              [--replay F.jsonl] [--max-diff X] [--rel-tolerance X]
                                                              [--min-agreement 0.99|99%] [--min-pairs N]
  capture   write the next N live request bodies (mirrored by nginx) to a JSON Lines file for diff --replay
                                                              --n N --out F.jsonl [--timeout S (default 60)]
  release   restart the idle color on a new model (Compose: and/or image), reachable on /preview/, not live;
            with --switch, then switch to it under the same lock (put back as it was if the switch fails)
                                                              --model P [--image I] [--switch [--expect-version V]] [--color <idle color>] [--timeout S]
  judge     send the same bodies to the canary (the idle color) and the stable color (live), and judge errors, p99 and
            the answers; exit 0 pass, 1 fail, 3 inconclusive (too little data)   [--replay F.jsonl] [--requests N]
            [--canary-url URL --stable-url URL]: two URLs instead of the colors (a Job in the cluster, e.g. Argo Rollouts)
  dashboard the deployment in the browser: both colors, live charts, the history, and the switch, rollback and
            release buttons (the same commands); prints a URL with its token   [--port N (3100)] [--host H (127.0.0.1)] [--read-only]

Every command: --backend local|compose|kubernetes (default local; --target is its older name, not usable through nx run),
  --json (one JSON document on stdout), --state-dir D (default .bluegreen at the workspace root).
  With --backend=kubernetes: --context C (a kubeconfig context; default its current one), --namespace N (default the spec's).
Environment fallbacks: BLUEGREEN_STATE_DIR, BLUEGREEN_BACKEND (or BLUEGREEN_TARGET), BLUEGREEN_ROUTER_PORT,
  BLUEGREEN_BLUE_PORT, BLUEGREEN_GREEN_PORT, BLUEGREEN_BLUE_MODEL, BLUEGREEN_GREEN_MODEL, BLUEGREEN_LOG_LEVEL,
  BLUEGREEN_COMPOSE_COMMAND, BLUEGREEN_KUBE_CONTEXT, BLUEGREEN_NAMESPACE,
  BLUEGREEN_DASHBOARD_HOST, BLUEGREEN_DASHBOARD_PORT (and KUBECONFIG, as kubectl reads it);
  BLUEGREEN_SPEC reads another deployment spec than deploy/deployment.json.
Exit status: 0 success (or nothing to do), 1 failure (the message says what to do), 2 bad usage; judge: 3 inconclusive.
Release flow: deploy:release --model=<new.onnx>, smoke-test http://<router>/preview/..., deploy:switch.`;
