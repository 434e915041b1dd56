import type { CaptureResult, ShadowStatus } from '../backends/backend';
import type { ShadowResult } from '../commands/shadow/shadow';

/** Shadow traffic for people: on or off, and what the relay counted. Pure. */
export function formatShadowLines(status: ShadowStatus): string[] {
  const relay = status.relay;
  const head = status.on ? `Shadow: ON, ${status.percent ?? '?'}% of live /predict mirrored to the idle color` : 'Shadow: off';
  const lines = [
    relay
      ? `${head} (relay pid ${status.pid}: received ${relay.received}, forwarded ${relay.forwarded}, sampled out ${relay.sampledOut}, dropped ${relay.dropped} (queue ${relay.queued}/${relay.queueSize}), failed ${relay.failed}${relay.lastError ? `, last error: ${relay.lastError}` : ''})`
      : head,
  ];
  return [...lines, ...status.notes.map((note) => `Note: ${note}`)];
}

export function formatShadow(result: ShadowResult): string[] {
  switch (result.action) {
    case 'on':
      return [
        ...formatShadowLines(result),
        'nginx now copies live /predict (and V2 infer) requests to the idle color through the relay, with the same X-Request-Id; nothing was reloaded.',
        'Send traffic, then compare: `npx nx run deploy:diff`. Stop with `npx nx run deploy:shadow off`.',
      ];
    case 'off': {
      const final = result.final;
      return [
        'Shadow: off. nginx answers its mirror copies itself again (no relay, no reload).',
        ...(final
          ? [
              `The relay counted: received ${final.received}, forwarded ${final.forwarded}, sampled out ${final.sampledOut}, dropped ${final.dropped}, failed ${final.failed}.`,
            ]
          : []),
        ...result.notes.map((note) => `Note: ${note}`),
      ];
    }
    case 'status':
      return formatShadowLines(result);
    default: {
      const unreachable: never = result.action;
      return unreachable;
    }
  }
}

export function formatCapture(result: CaptureResult): string[] {
  return [
    `Captured ${result.captured} of ${result.n} live request bodies in ${result.file}${result.timedOut ? ' (the timeout came first: send more traffic, or raise --timeout)' : ''}.`,
    ...(result.shadowWasOff
      ? ['Shadow traffic was off: nginx mirrored to the relay (forwarding 0%) during the capture only, and is off again.']
      : []),
    `Compare the colors on them: \`npx nx run deploy:diff --replay=${result.file}\`.`,
  ];
}
