import { type Color, otherColor } from '@mlbg/contract';
import { resolve } from 'node:path';
import { z } from 'zod';
import { endpointColors } from '../../backends/endpoints/endpoints';
import { httpClient } from '../../effects/real-deps';
import { readReplayFile } from '../../effects/replay-file';
import { DeployError } from '../../errors';
import { predictionDiffSettings } from '../../gates';
import { judgeLimits } from '../../gates/judge/limits';
import { mainTarget } from '../../routing/routes';
import { canarySettings } from '../canary/canary-settings';
import { defineCommand } from '../command';
import { ColorValue, flagValue, switchFlag, textFlag, wholeNumber } from '../flags';
import { JUDGE_EXIT, type JudgeTargets, judgeBySending } from './judge-sent';
import { judgeWindow } from './judge-window';

/** `10m`, `2h`, `90s` back from now, or a date and time (ISO 8601); in ms since the epoch. */
const Moment = flagValue(
  (text) => {
    const match = /^(\d+(?:\.\d+)?)(s|m|h)$/.exec(text);
    if (match) return Date.now() - Number(match[1]) * { s: 1_000, m: 60_000, h: 3_600_000 }[match[2] as 's' | 'm' | 'h'];
    const at = Date.parse(text);
    return Number.isNaN(at) ? undefined : at;
  },
  (text) => `{flag} must be a time such as 2026-12-07T10:00:00Z, or a duration back from now such as 10m or 2h, not "${text}"`,
);

const Url = flagValue(
  (text) => (/^http:\/\/[\w.-]+(:\d+)?(\/\S*)?$/.test(text) ? text : undefined),
  (text) => `{flag} must be an http:// URL, e.g. http://ml-preview:80, not "${text}"`,
);

/** The flags of a window the judge makes by sending (the other window, `--since`, already happened). */
const SEND_FLAGS = ['canaryUrl', 'stableUrl', 'replay', 'requests'] as const;

export const judgeDescriptor = defineCommand({
  name: 'judge',
  summary:
    'the canary judge alone: the canary color (--color, else the idle one) against the stable, exit 0 pass, 1 fail,\n' +
    "3 inconclusive (too little data). With --since: on live traffic that already happened (nginx's log, the colors'\n" +
    'kept records: "would it have passed?"). Without: on the same bodies sent to both colors (--replay or the probe\n' +
    'samples); with --canary-url and --stable-url to those two URLs (a Job in a cluster, e.g. Argo Rollouts)',
  flags: z
    .object({
      since: textFlag(Moment.optional(), { value: '10m|TIME' }),
      until: textFlag(Moment.optional(), { value: 'TIME' }),
      color: textFlag(ColorValue.optional(), { value: 'C' }),
      expectOutputChange: switchFlag(),
      canaryUrl: textFlag(Url.optional(), { value: 'URL' }),
      stableUrl: textFlag(Url.optional(), { value: 'URL' }),
      replay: textFlag(z.string().min(1).optional(), { value: 'F.jsonl' }),
      requests: textFlag(wholeNumber(1).optional(), { value: 'N' }),
    })
    .superRefine((flags, context) => {
      if ((flags.canaryUrl === undefined) !== (flags.stableUrl === undefined))
        context.addIssue({
          code: 'custom',
          message: '--canary-url and --stable-url go together: the two colors to judge, e.g. http://ml-preview and http://ml-live',
        });
      const sending = SEND_FLAGS.filter((name) => flags[name] !== undefined);
      if (flags.since !== undefined && sending.length > 0)
        context.addIssue({
          code: 'custom',
          message: `--since judges traffic that already happened; --${sending.map((name) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)).join(', --')} belong to a window the judge sends itself: give one or the other`,
        });
      if (flags.since === undefined && flags.until !== undefined)
        context.addIssue({ code: 'custom', message: '--until ends a window that begins with --since: give --since too' });
      if (flags.color !== undefined && flags.canaryUrl !== undefined)
        context.addIssue({ code: 'custom', message: '--color names a color of this stack; with --canary-url the URL is the canary' });
    }),
  options: (flags) => ({
    window: flags.since === undefined ? null : { since: flags.since, until: flags.until ?? Date.now() },
    expectOutputChange: flags.expectOutputChange,
    ...(flags.color === undefined ? {} : { canary: flags.color }),
    ...(flags.canaryUrl && flags.stableUrl ? { urls: { canary: flags.canaryUrl, stable: flags.stableUrl } } : {}),
    ...(flags.replay === undefined ? {} : { replay: flags.replay }),
    ...(flags.requests === undefined ? {} : { requests: flags.requests }),
  }),
  async run(context, options, env) {
    const spec = env.spec();
    const limits = judgeLimits(spec, { expectOutputChange: options.expectOutputChange });
    if (options.window) {
      return judgeWindow(context, limits, {
        ...options.window,
        ...(options.canary === undefined ? {} : { canary: options.canary }),
      });
    }
    const diff = predictionDiffSettings(spec.predictionDiff, env.workspaceRoot);
    const replayFile = options.replay ? resolve(env.cwd, options.replay) : diff.replayFile;
    const bodies = replayFile ? readReplayFile(replayFile) : canarySettings(spec, env.workspaceRoot, {}).probes;
    if (!bodies)
      throw new DeployError(
        'USAGE',
        'judge needs request bodies to send: --replay=<file.jsonl>, or predictionDiff.replay or canary.probes.samples in the spec; or --since=10m to judge live traffic that already happened.',
      );
    let targets: JudgeTargets;
    let colors = context.backend.colors;
    if (options.urls) {
      // The stable URL plays blue and the canary green: a Job in a cluster has Services, not colors.
      colors = endpointColors({ blue: options.urls.stable, green: options.urls.canary }, httpClient);
      targets = { stable: 'blue', canary: 'green', where: { blue: options.urls.stable, green: options.urls.canary } };
    } else {
      const live = mainTarget((await context.backend.readRoutes()).live);
      const canary = options.canary ?? otherColor(live);
      const stable = otherColor(canary);
      // Where each is on this stack: the live route's color, or the idle one (preview).
      const where = (color: Color) => (color === live ? 'the live color' : 'the idle color');
      targets = { stable, canary, where: { [stable]: where(stable), [canary]: where(canary) } as Record<Color, string> };
    }
    // Enough of each for every check's minimum sample (a body may have several rows; one each is the worst case).
    const needed = Math.max(limits.minRequests, limits.outputs?.minOutputs ?? 0, limits.outputs?.paired.minPairs ?? 0);
    return judgeBySending(
      colors,
      targets,
      { bodies, requests: options.requests ?? 2 * needed, limits },
      { clock: context.clock, progress: context.progress },
    );
  },
  verdict: (result) =>
    result.judgement.verdict === 'pass'
      ? { ok: true }
      : {
          ok: false,
          exitCode: JUDGE_EXIT[result.judgement.verdict],
          error: new DeployError(
            result.judgement.verdict === 'fail' ? 'JUDGE_FAILED' : 'JUDGE_INCONCLUSIVE',
            `${result.judgement.reasons.join('; ')}.`,
          ),
        },
  report: true,
});
