import type { Clock, HttpCall } from '../../../effects/deps';
import { DeployError } from '../../../errors';
import type { CaptureRequest } from '../../backend';
import { RELAY_CAPTURE_PATH, RELAY_STATUS_PATH, type RelayStatus } from './relay/relay';

/** Where a relay runs: how to reach its control route and read its file, and how often to ask. */
export interface CaptureRelay {
  readonly call: (call: HttpCall) => Promise<RelayStatus>;
  readonly clock: Clock;
  readonly progress: (line: string) => void;
  /** Between two status reads while the capture runs, and after it was told to stop at its deadline. */
  readonly pollMs: number;
  readonly stoppingPollMs: number;
  readonly progressMs: number;
  /** The error for a relay that could not write its capture file (its `lastError`). */
  readonly writeFailed: (lastError: string) => DeployError;
  /** Copies the relay's finished file to `--out`: a DeployError (the engine's) passes as it is, any other error is the user's file. */
  readonly copyOut: (file: string) => Promise<void>;
}

/**
 * The relay's capture protocol, one for every backend: ask the relay to write the next `n`
 * mirrored bodies to `name`, read its status until the capture is no longer active (every body
 * written, the file closed), telling it to stop at `request.timeoutMs`, then copy the file out.
 */
export async function runCapture(
  relay: CaptureRelay,
  request: CaptureRequest,
  name: string,
): Promise<{ readonly captured: number; readonly timedOut: boolean }> {
  let status = await relay.call({ method: 'POST', path: RELAY_CAPTURE_PATH, body: JSON.stringify({ name, n: request.n }) });
  const started = relay.clock.now();
  let reported = started;
  let timedOut = false;
  for (;;) {
    if (status.lastError?.startsWith('capture:')) throw relay.writeFailed(status.lastError);
    const capture = status.capture;
    if (!capture || !capture.active) {
      try {
        await relay.copyOut(request.file);
      } catch (error) {
        if (error instanceof DeployError) throw error;
        throw new DeployError('SHADOW_FAILED', `Could not write ${request.file} (${(error as Error).message}).`, {
          hint: 'Give --out a file in a folder that exists and that you can write.',
        });
      }
      return { captured: capture?.captured ?? 0, timedOut };
    }
    const now = relay.clock.now();
    if (!timedOut && now - started >= request.timeoutMs) {
      timedOut = true;
      status = await relay.call({ method: 'POST', path: RELAY_CAPTURE_PATH, body: JSON.stringify({ n: 0 }) });
      continue;
    }
    if (now - reported >= relay.progressMs) {
      relay.progress(`captured ${capture.captured} of ${request.n} live bodies`);
      reported = now;
    }
    await relay.clock.sleep(timedOut ? relay.stoppingPollMs : relay.pollMs);
    status = await relay.call({ method: 'GET', path: RELAY_STATUS_PATH });
  }
}
