import type { z } from 'zod';
import type { DeployError } from '../errors';
import type { BackendKind } from '../history/history';
import type { DeploymentSpec } from '../spec/deployment-spec';
import type { CanarySignals } from './canary/canary';
import type { CommandContext } from './context';
import type { DiffFlags } from './flags';

/**
 * What a command's result means: done, or not (with the reason to show, and an exit status of its
 * own where 1 says too little, e.g. judge's 3 inconclusive; a thrown error is a failure of its own).
 */
export type Verdict = { readonly ok: true } | { readonly ok: false; readonly error?: DeployError; readonly exitCode?: number };

/** What a command may read besides its context; the CLI and the dashboard each give their own. */
export interface RunEnv {
  /** The deployment spec, read when asked. @throws DeployError SPEC_INVALID */
  readonly spec: () => DeploymentSpec;
  readonly workspaceRoot: string;
  /** A relative path given as a flag is relative to this folder (the CLI's current folder). */
  readonly cwd: string;
  /** Starts listening for stop (SIGINT, SIGTERM) and promote (SIGUSR2) requests until the command ends; nothing from the page. */
  readonly signals: () => CanarySignals;
}

/**
 * A button of the dashboard's page that runs this command: the JSON body the page sends, and the
 * command's options it means. `ownProcess`: the page starts `deploy <command>` as its own process
 * instead (it runs for minutes holding the lock, and must outlive the request: the canary).
 */
export interface PageAction<Body extends z.ZodType = z.ZodType, Options = unknown> {
  readonly body: Body;
  options(body: z.output<Body>): Options;
  readonly ownProcess?: true;
}

/**
 * A command line: its name, what `help` says of it, and its flags (commands/flags.ts). The CLI
 * derives its parser, its help, the Nx executor's schema and the project's targets from these.
 */
export interface CommandLine<Name extends string = string, Flags extends z.ZodObject = z.ZodObject, Options = unknown> {
  readonly name: Name;
  /** What `help` says: one line, or more separated by \n (the flags are listed after it). */
  readonly summary: string;
  /** The flags as a zod object (keys in the order they are checked); refinements check flags against each other. */
  readonly flags: Flags;
  /** The flags as the command's options (what `run` gets). */
  options(flags: z.output<Flags>): Options;
  /** Why this backend can not run the command line (checked before its flags), or undefined. */
  refuseOn?(backend: BackendKind, given: Partial<Record<keyof z.input<Flags>, string | boolean>>): string | undefined;
}

/**
 * A command: its command line, what it does, and what its result means. One descriptor is all the
 * CLI, the executor and the dashboard need; the CLI adds a formatter (cli/format.ts).
 */
export interface CommandDescriptor<
  Name extends string = string,
  Flags extends z.ZodObject = z.ZodObject,
  Options = unknown,
  Result = unknown,
  Bodies extends Record<string, z.ZodType> = Record<string, z.ZodType>,
> extends CommandLine<Name, Flags, Options> {
  run(context: CommandContext, options: Options, env: RunEnv): Promise<Result>;
  /** What the result means (default: done). Refused is not ok, with an error that says why. */
  verdict?(result: NoInfer<Result>): Verdict;
  /** A report: its lines are the answer (stdout) even when it finds a problem. */
  readonly report?: true;
  /** It can move a route: it gets the spec's preflight gates, with the prediction-diff gate when its options name limits. */
  readonly preflight?: { diffFlags?(options: NoInfer<Options>): DiffFlags | undefined };
  /** The dashboard page's buttons that run it. */
  readonly actions?: { readonly [A in keyof Bodies]: PageAction<Bodies[A], NoInfer<Options>> };
  /** The schema of its result (from @mlbg/contract's deploy API, where it is kept). */
  readonly result?: z.ZodType<Result>;
}

/** Infers a descriptor's types from it: its name as a literal, its options from `options`, its result from `run`. */
export function defineCommand<
  const Name extends string,
  Flags extends z.ZodObject,
  Result,
  Options,
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- no actions unless given
  Bodies extends Record<string, z.ZodType> = {},
>(descriptor: CommandDescriptor<Name, Flags, Options, Result, Bodies>): CommandDescriptor<Name, Flags, Options, Result, Bodies> {
  return descriptor;
}

/** A command line the CLI serves itself (`help`, `dashboard`): no `run` on a deployment. */
export function defineCommandLine<const Name extends string, Flags extends z.ZodObject, Options>(
  line: CommandLine<Name, Flags, Options>,
): CommandLine<Name, Flags, Options> {
  return line;
}

/** A command's options as the CLI gives them to `run`. */
export type OptionsOf<C> = C extends CommandLine<string, z.ZodObject, infer Options> ? Options : never;
/** A command's result. */
export type ResultOf<C> = C extends CommandDescriptor<string, z.ZodObject, unknown, infer Result> ? Result : never;
