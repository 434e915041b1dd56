import { type Color, otherColor } from '@mlbg/contract';
import { resolve } from 'node:path';
import { z } from 'zod';
import { endpointColors } from '../../backends/endpoints/endpoints';
import { httpClient } from '../../effects/real-deps';
import { readReplayFile } from '../../effects/replay-file';
import { DeployError } from '../../errors';
import { predictionDiffSettings } from '../../gates';
import { mainTarget } from '../../routing/routes';
import { canarySettings } from '../canary/canary-settings';
import { defineCommand } from '../command';
import { flagValue, textFlag, wholeNumber } from '../flags';
import { JUDGE_EXIT, type JudgeTargets, judgeColors } from './judge';

const Url = flagValue(
  (text) => (/^http:\/\/[\w.-]+(:\d+)?(\/\S*)?$/.test(text) ? text : undefined),
  (text) => `{flag} must be an http:// URL, e.g. http://ml-preview:80, not "${text}"`,
);

export const judgeDescriptor = defineCommand({
  name: 'judge',
  summary:
    'send the same bodies to the canary (the idle color) and the stable color (live), and judge errors, p99 and the\n' +
    'answers; exit 0 pass, 1 fail, 3 inconclusive (too little data). With --canary-url and --stable-url: those two\n' +
    'URLs instead of the colors (a Job in a cluster, e.g. Argo Rollouts: the preview and the active Service)',
  flags: z
    .object({
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
    }),
  options: ({ canaryUrl, stableUrl, replay, requests }) => ({
    ...(canaryUrl && stableUrl ? { urls: { canary: canaryUrl, stable: stableUrl } } : {}),
    ...(replay === undefined ? {} : { replay }),
    ...(requests === undefined ? {} : { requests }),
  }),
  async run(context, options, env) {
    const spec = env.spec();
    const diff = predictionDiffSettings(spec.predictionDiff, env.workspaceRoot);
    const replayFile = options.replay ? resolve(env.cwd, options.replay) : diff.replayFile;
    const bodies = replayFile ? readReplayFile(replayFile) : canarySettings(spec, env.workspaceRoot, {}).probes;
    if (!bodies)
      throw new DeployError(
        'USAGE',
        'judge needs request bodies to send: --replay=<file.jsonl>, or predictionDiff.replay or canary.probes.samples in the spec.',
      );
    let targets: JudgeTargets;
    let colors = context.backend.colors;
    if (options.urls) {
      // The stable URL plays blue and the canary green: a Job in a cluster has Services, not colors.
      colors = endpointColors({ blue: options.urls.stable, green: options.urls.canary }, httpClient);
      targets = { stable: 'blue', canary: 'green', where: { blue: options.urls.stable, green: options.urls.canary } };
    } else {
      const stable = mainTarget((await context.backend.readRoutes()).live);
      targets = { stable, canary: otherColor(stable), where: { [stable]: 'live', [otherColor(stable)]: 'idle' } as Record<Color, string> };
    }
    const { analysis } = spec.canary;
    return judgeColors(
      colors,
      targets,
      {
        bodies,
        requests: options.requests ?? 2 * Math.max(analysis.minRequests, diff.criteria.minPairs),
        analysis,
        diff: diff.criteria,
      },
      { clock: context.clock, progress: context.progress },
    );
  },
  verdict: (result) =>
    result.verdict === 'pass'
      ? { ok: true }
      : {
          ok: false,
          exitCode: JUDGE_EXIT[result.verdict],
          error: new DeployError(result.verdict === 'fail' ? 'JUDGE_FAILED' : 'JUDGE_INCONCLUSIVE', `${result.reasons.join('; ')}.`),
        },
  report: true,
});
