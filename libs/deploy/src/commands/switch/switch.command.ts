import { ActionRequests } from '@mlbg/contract';
import { z } from 'zod';
import { dropUndefined } from '../../util/drop-undefined';
import { type Verdict, defineCommand } from '../command';
import { ColorValue, DIFF_FLAGS, textFlag, withDiffFlags } from '../flags';
import { type SwitchResult, switchFailure, switchTraffic } from './switch';

/** A switch or rollback that did not move traffic is refused, with the gate's (or the verification's) message. */
export function moveVerdict(result: SwitchResult): Verdict {
  if (result.kind === 'noop' || result.kind === 'switched') return { ok: true };
  return { ok: false, error: switchFailure(result) };
}

export const switchDescriptor = defineCommand({
  name: 'switch',
  summary:
    'move live traffic to --color (or `switch green`; no color: toggle), after the preflight gates; verified through nginx\n' +
    'with --max-diff, --min-agreement, --min-pairs or --replay: also the prediction-diff gate',
  flags: z.object({
    // `switch green` as switch_traffic.sh took it, or --color=green.
    color: textFlag(ColorValue.optional(), { value: 'blue|green', argument: { name: 'the color argument' } }),
    expectVersion: textFlag(z.string().optional(), { value: 'V' }),
    ...DIFF_FLAGS,
  }),
  options: (flags) => {
    const { diff, color, expectVersion } = withDiffFlags(flags);
    return dropUndefined({ color, expectVersion, diff: Object.keys(diff).length > 0 ? diff : undefined });
  },
  preflight: { diffFlags: (options) => options.diff },
  run: (context, options) => switchTraffic(context, dropUndefined({ color: options.color, expectVersion: options.expectVersion })),
  verdict: moveVerdict,
  actions: {
    switch: {
      body: ActionRequests.switch,
      options: (body) => dropUndefined(body),
    },
  },
});
