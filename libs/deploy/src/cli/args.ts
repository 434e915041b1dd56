import { parseArgs } from 'node:util';
import { z } from 'zod';
import { type CommandLine, defineCommandLine } from '../commands/command';
import { FLAGS, type FlagMeta, flagName, flagValue, switchFlag, textFlag } from '../commands/flags';
import { COMMANDS } from '../commands/registry';
import { BackendKind } from '../history/history';
import { dropUndefined } from '../util/drop-undefined';
import { dashboardCommandLine } from './dashboard.command';

/** What every command takes, as parsed before the command's own flags. */
export interface Common {
  readonly json: boolean;
  /** As given (flag or BLUEGREEN_STATE_DIR); undefined = `.bluegreen` at the workspace root. */
  readonly stateDir: string | undefined;
  /** Which deployment: `--backend` (or its older name `--target`, or BLUEGREEN_BACKEND); default local. */
  readonly backend: BackendKind;
  /** `--backend=kubernetes` only: the kubeconfig context (default: its current one) and the namespace (default: the spec's). */
  readonly kubeContext?: string;
  readonly namespace?: string;
}

const Backend = flagValue(
  (text) => {
    const parsed = BackendKind.safeParse(text);
    return parsed.success ? parsed.data : undefined;
  },
  (text) => `unknown backend "${text}" ({flag}); use ${BackendKind.options.slice(0, -1).join(', ')} or ${BackendKind.options.at(-1)}`,
);

const Namespace = flagValue(
  (text) => (/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(text) ? text : undefined),
  (text) => `{flag} must be a Kubernetes namespace (lowercase letters, digits and "-"), not "${text}"`,
);

/** The flags of every command (checked in this order, before the command's own). */
const COMMON_FLAGS = z.object({
  json: switchFlag(),
  stateDir: textFlag(z.string().optional(), { value: 'D', env: 'BLUEGREEN_STATE_DIR' }),
  backend: textFlag(Backend.optional(), { value: 'local|compose|kubernetes', env: 'BLUEGREEN_BACKEND' }),
  // `--target` is the option's first name, kept for scripts; through `nx run` only `--backend` works (Nx takes `--target` for itself).
  target: textFlag(Backend.optional(), { value: 'local|compose|kubernetes', env: 'BLUEGREEN_TARGET' }),
  context: textFlag(z.string().optional(), { value: 'C', env: 'BLUEGREEN_KUBE_CONTEXT' }),
  namespace: textFlag(Namespace.optional(), { value: 'N', env: 'BLUEGREEN_NAMESPACE' }),
  help: switchFlag({ short: 'h' }),
});

export const helpCommandLine = defineCommandLine({
  name: 'help',
  summary: 'this text',
  flags: z.object({}),
  options: () => ({}),
});

/** The command lines the CLI serves itself, after the registry's commands. */
export const CLI_SERVED = [dashboardCommandLine, helpCommandLine] as const;
/** Every command line the CLI reads, in the order `help` lists them. */
export const COMMAND_LINES = [...COMMANDS, ...CLI_SERVED] as const;
export type CommandName = (typeof COMMAND_LINES)[number]['name'];

type CommandOf<L> = L extends CommandLine<infer Name, z.ZodObject, infer Options> ? Common & { readonly name: Name } & Options : never;

/** A parsed, validated command line, as one object. */
export type Command =
  { readonly name: 'help'; readonly json: boolean } | CommandOf<Exclude<(typeof COMMAND_LINES)[number], typeof helpCommandLine>>;

export type ParseResult =
  { readonly ok: true; readonly command: Command } | { readonly ok: false; readonly message: string; readonly json: boolean };

/** A command line read: which command, the flags every command takes, and the command's options. */
export type ReadResult =
  | { readonly ok: true; readonly json: boolean; readonly help: true }
  | {
      readonly ok: true;
      readonly json: boolean;
      readonly help?: undefined;
      readonly name: string;
      readonly common: Common;
      readonly options: unknown;
    }
  | { readonly ok: false; readonly json: boolean; readonly message: string };

class UsageError extends Error {}

/** How a value was given: `--flag`, a BLUEGREEN_* variable, or the command's argument. */
interface Given {
  readonly value: string;
  readonly from: string;
}

function metaOf(schema: z.ZodType): FlagMeta {
  const meta = FLAGS.get(schema);
  if (!meta) throw new Error('a flag schema was not made with textFlag or switchFlag (commands/flags.ts)');
  return meta;
}

function shapeOf(flags: z.ZodObject): [key: string, schema: z.ZodType, meta: FlagMeta][] {
  return Object.entries(flags.shape as Record<string, z.ZodType>).map(([key, schema]) => [key, schema, metaOf(schema)]);
}

/** node:util parseArgs's options for a command: its flags and every command's (not its argument). */
function parseArgsOptions(line: CommandLine): Record<string, { type: 'string' | 'boolean'; short?: string }> {
  return Object.fromEntries(
    [...shapeOf(COMMON_FLAGS), ...shapeOf(line.flags)]
      .filter(([, , meta]) => !meta.argument?.onlyArgument)
      .map(([key, , meta]) => [
        flagName(key),
        { type: meta.kind === 'switch' ? 'boolean' : 'string', ...(meta.short ? { short: meta.short } : {}) },
      ]),
  );
}

/** A value read by its flag's schema; a bad one is a usage error that names how it was given. */
function valueOf<T>(schema: z.ZodType<T>, given: Given | undefined): T {
  const parsed = schema.safeParse(given?.value);
  if (parsed.success) return parsed.data;
  throw new UsageError((parsed.error.issues[0]?.message ?? 'is not valid').replaceAll('{flag}', given?.from ?? 'a flag'));
}

/**
 * Reads `<command> [flags]` (node:util parseArgs, strict) for one of `lines`, with BLUEGREEN_*
 * variables as fallbacks for flags. Pure: argv and env in, a command or a usage message out.
 */
export function readCommandLine(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  lines: readonly CommandLine[] = COMMAND_LINES,
): ReadResult {
  const json = argv.includes('--json');
  const [first, ...rest] = argv;
  if (first === undefined || first === '--help' || first === '-h') return { ok: true, json, help: true };
  const line = lines.find((candidate) => candidate.name === first);
  if (!line)
    return { ok: false, json, message: `unknown command "${first}"; the commands are ${lines.map(({ name }) => name).join(', ')}` };
  try {
    const { values, positionals } = parseArgs({ args: [...rest], options: parseArgsOptions(line), strict: true, allowPositionals: true });
    const raw = values as Record<string, string | boolean | undefined>;
    if (raw['help'] || line.name === 'help') return { ok: true, json, help: true };
    const given = (key: string, meta: FlagMeta): Given | undefined => {
      const flag = raw[flagName(key)];
      if (typeof flag === 'string') return { value: flag, from: `--${flagName(key)}` };
      const fromEnv = meta.env ? env[meta.env] : undefined;
      return meta.env && fromEnv !== undefined && fromEnv !== '' ? { value: fromEnv, from: meta.env } : undefined;
    };
    const common = readCommon((key) => given(key, metaOf(COMMON_FLAGS.shape[key])), json);

    const { input, sources } = givenFlags(line, positionals, raw, given);
    const refused = line.refuseOn?.(common.backend, input);
    if (refused) throw new UsageError(refused);
    const takesArgument = shapeOf(line.flags).find(([, , meta]) => meta.argument);
    const extra = takesArgument ? positionals.slice(1) : positionals;
    if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
    if (takesArgument && !takesArgument[2].argument?.onlyArgument) {
      const [key] = takesArgument;
      const flag = given(key, takesArgument[2]);
      if (flag && positionals[0] !== undefined && flag.value !== positionals[0])
        throw new UsageError(`--${flagName(key)}=${flag.value} and the argument "${positionals[0]}" disagree; give one`);
    }

    const parsed = line.flags.safeParse(input);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const key = String(issue?.path[0] ?? '');
      throw new UsageError((issue?.message ?? 'is not valid').replaceAll('{flag}', sources[key]?.from ?? `--${flagName(key)}`));
    }
    return { ok: true, json, name: line.name, common, options: line.options(parsed.data) };
  } catch (error) {
    if (error instanceof UsageError) return { ok: false, json, message: `${line.name}: ${error.message}` };
    const code = (error as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS'))
      return { ok: false, json, message: `${line.name}: ${(error as Error).message}` };
    throw error;
  }
}

/** What was given for each of the command's flags (its argument too), to be checked by the flags' schema. */
function givenFlags(
  line: CommandLine,
  positionals: readonly string[],
  raw: Readonly<Record<string, string | boolean | undefined>>,
  given: (key: string, meta: FlagMeta) => Given | undefined,
): { input: Record<string, string | boolean>; sources: Record<string, Given> } {
  const sources: Record<string, Given> = {};
  const input: Record<string, string | boolean> = {};
  for (const [key, , meta] of shapeOf(line.flags)) {
    if (meta.kind === 'switch') {
      if (raw[flagName(key)] === true) input[key] = true;
      continue;
    }
    const source = meta.argument?.onlyArgument ? undefined : given(key, meta);
    const argument = meta.argument && positionals[0] !== undefined ? { value: positionals[0], from: meta.argument.name } : undefined;
    const chosen = source ?? argument;
    if (chosen) {
      sources[key] = chosen;
      input[key] = chosen.value;
    }
  }
  return { input, sources };
}

/** The flags every command takes, checked in the order a person would fix them. */
function readCommon(given: (key: keyof typeof COMMON_FLAGS.shape) => Given | undefined, json: boolean): Common {
  const { shape } = COMMON_FLAGS;
  const backendFlag = given('backend');
  const targetFlag = given('target');
  if (backendFlag && targetFlag && backendFlag.value !== targetFlag.value)
    throw new UsageError(`${backendFlag.from}=${backendFlag.value} and ${targetFlag.from}=${targetFlag.value} disagree; give one`);
  const backend = valueOf(shape.backend, backendFlag ?? targetFlag) ?? 'local';
  const kubeContext = given('context');
  const namespace = given('namespace');
  if (backend !== 'kubernetes' && (kubeContext || namespace))
    throw new UsageError(`${(kubeContext ?? namespace)?.from} is for --backend=kubernetes only`);
  return {
    json,
    stateDir: given('stateDir')?.value,
    backend,
    ...dropUndefined({ kubeContext: kubeContext?.value, namespace: valueOf(shape.namespace, namespace) }),
  };
}

/**
 * Parses `<command> [flags]` into one object: the command's name, the flags every command takes
 * and the command's options (what {@link readCommandLine} reads, flattened).
 */
export function parseCommandLine(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  lines: readonly CommandLine[] = COMMAND_LINES,
): ParseResult {
  const read = readCommandLine(argv, env, lines);
  if (!read.ok) return read;
  if (read.help) return { ok: true, command: { name: 'help', json: read.json } };
  return { ok: true, command: { name: read.name, ...read.common, ...(read.options as object) } as Command };
}

const WIDTH = 140;
const INDENT = ' '.repeat(12);

/** `[--router-port N]`, `--n N`, `[--keep]`, `[on|off|status]`: a flag as `help` shows it. */
function synopsis(schema: z.ZodType, meta: FlagMeta, key: string): string {
  const fallback = schema.safeParse(undefined);
  const shownDefault =
    meta.kind === 'text' && !meta.argument?.onlyArgument && fallback.success && ['string', 'number'].includes(typeof fallback.data)
      ? ` (${String(fallback.data)})`
      : '';
  const text = meta.argument?.onlyArgument
    ? (meta.value ?? key)
    : meta.kind === 'switch'
      ? `--${flagName(key)}`
      : `--${flagName(key)} ${meta.value ?? 'X'}${shownDefault}`;
  return fallback.success ? `[${text}]` : text;
}

/** Words joined into lines of at most WIDTH characters: the first starts with `first`, the others with `indent`. */
function wrap(words: readonly string[], indent: string, { separator = ' ', first = indent } = {}): string[] {
  const lines: string[] = [];
  let current = first;
  for (const word of words) {
    const next = current === first || current === indent ? `${current}${word}` : `${current}${separator}${word}`;
    if (current !== first && current !== indent && next.length > WIDTH) {
      lines.push(`${current}${separator.trimEnd()}`);
      current = `${indent}${word}`;
    } else current = next;
  }
  return current === first || current === indent ? lines : [...lines, current];
}

/** `help`: every command and its flags, from the command lines themselves. */
export function usage(lines: readonly CommandLine[] = COMMAND_LINES): string {
  const commands = lines.flatMap((line) => {
    const [head = '', ...more] = line.summary.split('\n');
    const flags = shapeOf(line.flags).map(([key, schema, meta]) => synopsis(schema, meta, key));
    return [`  ${line.name.padEnd(9)} ${head}`, ...more.map((text) => `${INDENT}${text}`), ...wrap(flags, INDENT)];
  });
  const variables = [...shapeOf(COMMON_FLAGS), ...lines.flatMap((line) => shapeOf(line.flags))].flatMap(([key, , meta]) =>
    meta.env ? [`${meta.env} (--${flagName(key)})`] : [],
  );
  return [
    'Usage: deploy <command> [flags]     (npx nx run deploy:<command> [flags])',
    '',
    'Commands (on the local stack; --backend=compose: the Docker Compose deployment; --backend=kubernetes: a cluster, except up and down):',
    ...commands,
    '',
    'Every command: --backend local|compose|kubernetes (default local; --target is its older name, not usable through nx run),',
    '  --json (one JSON document on stdout), --state-dir D (default .bluegreen at the workspace root).',
    "  With --backend=kubernetes: --context C (a kubeconfig context; default its current one), --namespace N (default the spec's).",
    ...wrap([...new Set(variables)], '  ', { separator: ', ', first: 'Environment fallbacks (a flag wins over its variable): ' }),
    '  Also: BLUEGREEN_COMPOSE_COMMAND (the Compose command to run), KUBECONFIG (as kubectl reads it);',
    '  BLUEGREEN_SPEC reads another deployment spec than deploy/deployment.json.',
    'Exit status: 0 success (or nothing to do), 1 failure (the message says what to do), 2 bad usage.',
    'Release flow: deploy:release --model=<new.onnx>, smoke-test http://<router>/preview/..., deploy:switch.',
  ].join('\n');
}

/** `help` of the registry's commands. */
export const USAGE = usage();
