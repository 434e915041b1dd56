import { z } from 'zod';
import { CanaryResult } from './canary';
import { DiffResult } from './diff';
import { JudgeResult } from './judgement';
import {
  CaptureResult,
  DashboardStarted,
  DownResult,
  ReleaseOutcome,
  ReleaseSwitchFailure,
  ShadowResult,
  SwitchResult,
  UpResult,
} from './results';
import { StatusResult } from './status';

/** Why a command did not do what it was asked: a code from the deploy tool's catalogue, what happened, what to do. */
export const CliError = z.strictObject({ code: z.string(), message: z.string(), hint: z.string() });
export type CliError = z.infer<typeof CliError>;

/** Each command's `result` in its `--json` document (and, for the page's buttons, in the dashboard's action outcome). */
export const CommandResults = {
  up: UpResult,
  down: DownResult,
  status: StatusResult,
  switch: SwitchResult,
  rollback: SwitchResult,
  release: ReleaseOutcome,
  canary: CanaryResult,
  promote: CanaryResult,
  judge: JudgeResult,
  shadow: ShadowResult,
  capture: CaptureResult,
  diff: DiffResult,
  dashboard: DashboardStarted,
} as const;
export type CommandName = keyof typeof CommandResults | 'help';
export type ResultCommand = keyof typeof CommandResults;
export type CommandResult<C extends ResultCommand> = z.infer<(typeof CommandResults)[C]>;

/**
 * What a failed command leaves in `result` instead of null, by command: what it did before it
 * failed. Only `release --switch` does (the release, and the switch that did not happen).
 */
export const FailureResults = { release: ReleaseSwitchFailure } as const;
type FailureOf<C extends string> = C extends keyof typeof FailureResults ? (typeof FailureResults)[C] : z.ZodNull;

/** The schema of what `command` leaves in `result` when it fails (null for most). */
export function failureOf<C extends string>(command: C): FailureOf<C> {
  return ((FailureResults as Record<string, z.ZodType>)[command] ?? z.null()) as FailureOf<C>;
}

/**
 * The one JSON document a command prints with `--json`. `ok` decides the exit status; `result` is
 * the command's (also when it reports a problem: a refused switch, an unhealthy status), or null
 * (or `failure`, see {@link FailureResults}) when it failed before it had one; `error` says why it is not ok.
 */
export function cliEnvelope<R extends z.ZodType, F extends z.ZodType = z.ZodNull>(result: R, failure?: F) {
  return z.strictObject({
    ok: z.boolean(),
    command: z.string(),
    result: z.union([result, failure ?? z.null(), z.null()]),
    error: CliError.optional(),
  });
}
/** The `--json` document of `command` (its envelope; a usage error is {@link CliUsageError}). */
export type CommandOutput<C extends ResultCommand> = Envelope<(typeof CommandResults)[C], FailureOf<C>>;
type Envelope<R extends z.ZodType, F extends z.ZodType> = z.infer<ReturnType<typeof cliEnvelope<R, F>>>;

/** The document of a command line that could not be parsed (exit 2): `command` is its first word, if any. */
export const CliUsageError = z.strictObject({ ok: z.literal(false), command: z.string().nullable(), error: CliError });
export type CliUsageError = z.infer<typeof CliUsageError>;

/** `deploy help --json`. */
export const CliHelp = z.strictObject({ ok: z.literal(true), command: z.literal('help'), usage: z.string() });
export type CliHelp = z.infer<typeof CliHelp>;

/** The envelope `deploy <command> --json` prints once its command line was understood. */
export function commandOutput<C extends ResultCommand>(command: C): z.ZodType<CommandOutput<C>> {
  return cliEnvelope(CommandResults[command], failureOf(command));
}

/** Everything `deploy <command> --json` can print: its envelope, or the usage error. */
export function cliOutput<C extends ResultCommand>(command: C): z.ZodType<CommandOutput<C> | CliUsageError> {
  return z.union([commandOutput(command), CliUsageError]);
}
