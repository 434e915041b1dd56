import { ActionRequests, Color } from '@mlbg/contract';
import { z } from 'zod';
import { dropUndefined } from '../../util/drop-undefined';
import { type Verdict, defineCommand } from '../command';
import { ColorValue, DIFF_FLAGS, type DiffFlags, flagName, flagValue, switchFlag, textFlag, withDiffFlags } from '../flags';
import { type CanaryRequest, type CanaryResult, canaryCommand, canaryFailure } from './canary';
import { canarySettings } from './canary-settings';
import { resolve } from 'node:path';
import { readReplayFile } from '../../effects/replay-file';

const Steps = flagValue(
  (text) => {
    const parts = text.split(',').map((part) => part.trim());
    return parts.some((part) => !/^\d+$/.test(part)) ? undefined : parts.map(Number);
  },
  (text) => `{flag} must be percents separated by commas, e.g. 5,25,50,100, not "${text}"`,
);

/** `30s`, `2m`, `1500ms` or a plain number of seconds; in seconds. */
const Interval = flagValue(
  (text) => {
    const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text);
    if (!match) return undefined;
    const value = Number(match[1]);
    return match[2] === 'ms' ? value / 1000 : match[2] === 'm' ? value * 60 : value;
  },
  (text) => `{flag} must be a duration such as 30s, 2m or 1500ms, not "${text}"`,
);

/** What the page asks of a canary start (the CLI's flags of a start; dashboard/canary-launch.ts turns it back into them): the contract's. */
export const CanaryStartBody = ActionRequests.canary;

export interface CanaryOptions {
  readonly mode: 'start' | 'resume' | 'abort';
  readonly keep: boolean;
  readonly color?: Color;
  readonly steps?: readonly number[];
  readonly intervalSeconds?: number;
  /** The version the canary color must answer with (the preflight refuses otherwise), as for switch. */
  readonly expectVersion?: string;
  /** The prediction-diff gate in the canary's preflight, as for switch (and the judge's paired check; --replay's bodies are replayed when answers are short). */
  readonly diff?: DiffFlags;
  /** The answers are meant to change: the judge shows the output checks without counting them; the history records it. */
  readonly expectOutputChange?: boolean;
}

/** The flags only a start takes. */
const START_ONLY = ['color', 'steps', 'interval', 'expectVersion'] as const;
/** Switches only a start takes. */
const START_ONLY_SWITCHES = ['expectOutputChange'] as const;

/** A canary (or a promote) that did not do what was asked is refused, with why. */
export function canaryVerdict(result: CanaryResult): Verdict {
  const error = canaryFailure(result);
  return error ? { ok: false, error } : { ok: true };
}

export const canaryDescriptor = defineCommand({
  name: 'canary',
  summary:
    'move a share of live traffic to --color step by step, judging each interval against the stable color\n' +
    "(5xx, latency and the model's answers, by tests with a stated false-alarm rate); rolls back on failure;\n" +
    'Ctrl-C/SIGTERM moves the weight back unless --keep\n' +
    '--expect-output-change: the answers are meant to change (shown, not counted; recorded in the history)\n' +
    'with --max-diff, --min-agreement, --min-pairs or --replay: also the prediction-diff gate before step 1\n' +
    "(and the judge's paired check; --replay's bodies are replayed to both colors when answers are short)\n" +
    '--resume continues an interrupted canary; --abort moves all traffic back to the stable color',
  flags: z
    .object({
      color: textFlag(ColorValue.optional(), { value: 'C' }),
      steps: textFlag(Steps.optional(), { value: '5,25,50,100' }),
      interval: textFlag(Interval.optional(), { value: '30s' }),
      expectVersion: textFlag(z.string().optional(), { value: 'V' }),
      ...DIFF_FLAGS,
      expectOutputChange: switchFlag(),
      keep: switchFlag(),
      resume: switchFlag(),
      abort: switchFlag(),
    })
    .superRefine((flags, context) => {
      const refuse = (message: string) => context.addIssue({ code: 'custom', message });
      if (flags.abort && flags.resume) return refuse('--abort and --resume can not go together; give one');
      const mode = flags.abort ? 'abort' : 'resume';
      if (!flags.abort && !flags.resume) return;
      const misplaced = START_ONLY.find((flag) => flags[flag] !== undefined);
      if (misplaced) return refuse(`--${flagName(misplaced)} is for starting a canary; --${mode} continues the one in progress`);
      const misplacedSwitch = START_ONLY_SWITCHES.find((flag) => flags[flag]);
      if (misplacedSwitch)
        return refuse(
          `--${flagName(misplacedSwitch)} is for starting a canary; --${mode} continues the one in progress (as it was started)`,
        );
      if (flags.abort && flags.keep) return refuse('--keep keeps the weight when the canary is stopped; --abort moves it back');
      if (Object.keys(withDiffFlags(flags).diff).length > 0)
        return refuse(`the prediction-diff flags are for starting a canary; --${mode} continues the one in progress`);
    }),
  options: (flags): CanaryOptions => {
    const { diff } = withDiffFlags(flags);
    return {
      mode: flags.abort ? 'abort' : flags.resume ? 'resume' : 'start',
      keep: flags.keep,
      ...dropUndefined({
        color: flags.color,
        steps: flags.steps,
        intervalSeconds: flags.interval,
        expectVersion: flags.expectVersion,
        diff: Object.keys(diff).length > 0 ? diff : undefined,
        expectOutputChange: flags.expectOutputChange ? true : undefined,
      }),
    };
  },
  preflight: { diffFlags: (options) => options.diff },
  run: (context, options, env) => {
    const request: CanaryRequest =
      options.mode === 'start'
        ? {
            kind: 'start',
            keep: options.keep,
            ...dropUndefined({
              color: options.color,
              expectVersion: options.expectVersion,
              expectOutputChange: options.expectOutputChange,
            }),
          }
        : options.mode === 'resume'
          ? { kind: 'resume', keep: options.keep }
          : { kind: 'abort' };
    const spec = env.spec();
    const { diff } = options;
    const settings = {
      ...canarySettings(spec, env.workspaceRoot, dropUndefined({ steps: options.steps, intervalSeconds: options.intervalSeconds })),
      // The judge's paired check takes the same tolerance as the preflight's prediction diff.
      predictionDiff: {
        ...spec.predictionDiff,
        ...dropUndefined({
          absoluteTolerance: diff?.maxDiff,
          relativeTolerance: diff?.relTolerance,
          minAgreement: diff?.minAgreement,
          minPairs: diff?.minPairs,
        }),
      },
      ...(diff?.replay ? { replay: readReplayFile(resolve(env.cwd, diff.replay)) } : {}),
    };
    return canaryCommand(context, request, settings, env.signals());
  },
  verdict: canaryVerdict,
  actions: {
    // A canary runs for minutes holding the lock: the page starts it as its own `deploy canary`.
    canary: {
      body: CanaryStartBody,
      options: (body): CanaryOptions => ({ mode: 'start', keep: false, ...dropUndefined(body) }),
      ownProcess: true,
    },
    'canary-abort': { body: ActionRequests['canary-abort'], options: (): CanaryOptions => ({ mode: 'abort', keep: false }) },
  },
});
