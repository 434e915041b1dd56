import { Color } from '@mlbg/contract';
import { z } from 'zod';
import { dropUndefined } from '../util/drop-undefined';

/**
 * A command's flags are a zod object: each key is a flag (camelCase; on the command line
 * kebab-case: `routerPort` is `--router-port`), each value a schema from the text the user typed
 * to the value the command gets, registered here with how it is given. The CLI's parser, its help
 * and the BLUEGREEN_* fallbacks are read from these; nothing else lists the flags.
 *
 * A message may name the flag as `{flag}`: the CLI puts in how the value was given
 * (`--router-port`, `BLUEGREEN_ROUTER_PORT`, `the color argument`).
 */
export interface FlagMeta {
  /** `text`: `--name=value` or `--name value`; `switch`: `--name` alone (true when given). */
  readonly kind: 'text' | 'switch';
  /** What the help shows for its value, e.g. `N`, `blue|green`. */
  readonly value?: string;
  /** The variable read when the flag is not given (flags win). */
  readonly env?: string;
  /** The command's argument (`switch green`, `shadow on`): how a message names it; `onlyArgument`: not a flag too. */
  readonly argument?: { readonly name: string; readonly onlyArgument?: true };
  /** A one-letter name (`-h`). */
  readonly short?: string;
}

export const FLAGS = z.registry<FlagMeta>();

/** A flag with a value: `schema` reads the text (`.optional()` or `.default(...)` unless the flag is required). */
export function textFlag<T extends z.ZodType>(schema: T, meta: Omit<FlagMeta, 'kind'> = {}): T {
  FLAGS.add(schema, { kind: 'text', ...meta });
  return schema;
}

/** A flag without a value: false unless given. */
export function switchFlag(meta: Pick<FlagMeta, 'short'> = {}) {
  return z
    .boolean()
    .default(false)
    .register(FLAGS, { kind: 'switch', ...meta });
}

/** `routerPort` -> `router-port`. */
export function flagName(key: string): string {
  return key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
}

/**
 * A flag's value read from its text by `read` (undefined: not valid), refused with `message`.
 * The checks are the CLI's own (written out rather than chained zod checks, so a value is
 * refused with one message that says what is expected).
 */
export function flagValue<T>(read: (text: string) => T | undefined, message: (text: string) => string, missing?: string) {
  return z
    .string(missing ? { error: (issue) => (issue.input === undefined ? missing : undefined) } : undefined)
    .transform((text, context) => {
      const value = read(text);
      if (value !== undefined) return value;
      context.issues.push({ code: 'custom', message: message(text), input: text });
      return z.NEVER;
    });
}

export const Port = flagValue(
  (text) => (/^\d+$/.test(text) && Number(text) >= 1 && Number(text) <= 65_535 ? Number(text) : undefined),
  (text) => `{flag} must be a port number from 1 to 65535, not "${text}"`,
);

/** A number of seconds, given in seconds, kept in milliseconds. */
export const Seconds = flagValue(
  (text) => (Number.isFinite(Number(text)) && Number(text) > 0 ? Math.round(Number(text) * 1000) : undefined),
  (text) => `{flag} must be a number of seconds greater than 0, not "${text}"`,
);

export function wholeNumber(min: number, missing?: string) {
  return flagValue(
    (text) => (/^\d+$/.test(text) && Number(text) >= min ? Number(text) : undefined),
    (text) => `{flag} must be a whole number >= ${min}, not "${text}"`,
    missing,
  );
}

function readNumber(text: string, range: { min: number; max?: number }): number | undefined {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < range.min || (range.max !== undefined && value > range.max))
    return undefined;
  return value;
}

function between(range: { min: number; max?: number }): string {
  return range.max === undefined ? `>= ${range.min}` : `from ${range.min} to ${range.max}`;
}

export function decimal(range: { min: number; max?: number }) {
  return flagValue(
    (text) => readNumber(text, range),
    (text) => `{flag} must be a number ${between(range)}, not "${text}"`,
  );
}

export const ColorValue = flagValue(
  (text) => {
    const parsed = Color.safeParse(text);
    return parsed.success ? parsed.data : undefined;
  },
  (text) => `unknown color "${text}" ({flag}); the colors are ${Color.options.join(' and ')}`,
);

/** 0..1, or a percent (`--min-agreement=95%`). */
const Agreement = z.string().transform((text, context) => {
  const percent = text.endsWith('%');
  const number = percent ? text.slice(0, -1) : text;
  const range = percent ? { min: 0, max: 100 } : { min: 0, max: 1 };
  const value = readNumber(number, range);
  if (value !== undefined) return percent ? value / 100 : value;
  context.issues.push({ code: 'custom', message: `{flag} must be a number ${between(range)}, not "${number}"`, input: text });
  return z.NEVER;
});

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

export const DIFF_FLAGS = {
  replay: textFlag(z.string().optional(), { value: 'F.jsonl' }),
  maxDiff: textFlag(decimal({ min: 0 }).optional(), { value: 'X' }),
  relTolerance: textFlag(decimal({ min: 0 }).optional(), { value: 'X' }),
  minAgreement: textFlag(Agreement.optional(), { value: '0.99|99%' }),
  minPairs: textFlag(wholeNumber(1).optional(), { value: 'N' }),
};

/** Splits the prediction-diff flags off the others: `{ ...others, diff }` (the diff flags given, possibly none). */
export function withDiffFlags<T extends DiffFlags>(flags: T): Omit<T, keyof DiffFlags> & { diff: DiffFlags } {
  const { maxDiff, relTolerance, minAgreement, minPairs, replay, ...others } = flags;
  return { ...others, diff: dropUndefined({ maxDiff, relTolerance, minAgreement, minPairs, replay }) };
}

export const TIMEOUT_FLAG = { timeout: textFlag(Seconds.optional(), { value: 'S' }) };
