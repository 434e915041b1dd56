import type { ShadowResult } from '@mlbg/contract';
import type { CaptureRequest, CaptureResult, ShadowControl, ShadowStatus } from '../../backends/backend';
import { DeployError } from '../../errors';
import type { DeploymentSpec } from '../../spec/deployment-spec';
import type { CommandContext } from '../context';
import { recorded } from '../stack/stack';

export type ShadowAction =
  { readonly kind: 'on'; readonly percent: number; readonly queueSize: number } | { readonly kind: 'off' } | { readonly kind: 'status' };

/** What `deploy:shadow` answers (the contract's). */
export type { ShadowResult } from '@mlbg/contract';

/**
 * `shadow on` as the spec allows it: the flags (or the dashboard's request) over the spec's percent
 * and queue size; refused when the spec rendered nginx without the mirror. One place for the CLI and the dashboard.
 */
export function shadowOnAction(
  spec: DeploymentSpec,
  request: { readonly percent?: number; readonly queueSize?: number },
): Extract<ShadowAction, { kind: 'on' }> {
  if (!spec.shadow.mirror) {
    throw new DeployError('SHADOW_FAILED', 'deploy/deployment.json sets shadow.mirror to false, so nginx was started without the mirror.', {
      hint: 'Set shadow.mirror to true (the default) and restart the stack (`deploy:down`, `deploy:up`), then turn shadow on.',
    });
  }
  return { kind: 'on', percent: request.percent ?? spec.shadow.percent, queueSize: request.queueSize ?? spec.shadow.queueSize };
}

function control(context: CommandContext): ShadowControl {
  const { shadow } = context.backend;
  if (!shadow) {
    throw new DeployError(
      'DIFF_UNAVAILABLE',
      `Shadow traffic is not built for --backend=${context.backend.kind} yet (its nginx has the mirror, but nothing provides the relay and the shadow.sock link).`,
    );
  }
  return shadow;
}

function counters(relay: ShadowStatus['relay']) {
  return relay
    ? { received: relay.received, forwarded: relay.forwarded, dropped: relay.dropped, failed: relay.failed, sampledOut: relay.sampledOut }
    : null;
}

/**
 * `deploy:shadow on [--percent=N]` / `off` / `status`: nginx mirrors that share of live /predict
 * (and V2 infer) to the idle color through the relay, without a reload. On and off take the lock
 * and are recorded; status only reads.
 */
export async function shadowTraffic(context: CommandContext, action: ShadowAction): Promise<ShadowResult> {
  const shadow = control(context);
  switch (action.kind) {
    case 'status':
      return { ...(await shadow.status()), action: action.kind };
    case 'on':
      return recorded(
        context,
        'shadow on',
        {},
        async (write) => {
          const status = await shadow.on({ percent: action.percent, queueSize: action.queueSize });
          await write({ command: 'shadow', outcome: 'on', percent: action.percent, relay: counters(status.relay) });
          return { ...status, action: action.kind };
        },
        (reason) => ({ command: 'shadow', outcome: 'failed', percent: action.percent, relay: null, reason }),
      );
    case 'off':
      return recorded(
        context,
        'shadow off',
        {},
        async (write) => {
          const status = await shadow.off();
          await write({ command: 'shadow', outcome: 'off', percent: null, relay: counters(status.final) });
          return { ...status, action: action.kind };
        },
        (reason) => ({ command: 'shadow', outcome: 'failed', percent: null, relay: null, reason }),
      );
    default: {
      const unreachable: never = action;
      return unreachable;
    }
  }
}

/**
 * `deploy:capture --n=N --out=F`: writes the next N live request bodies (as nginx mirrors them) to
 * F, for `deploy:diff --replay=F`. Opt-in and bounded (N, the timeout); takes the lock, as it may
 * turn the mirror on for its own duration.
 */
export function captureLive(context: CommandContext, request: CaptureRequest): Promise<CaptureResult> {
  const shadow = control(context);
  return context.lock.hold({ command: 'capture', user: context.userName }, () => shadow.capture(request));
}
