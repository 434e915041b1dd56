import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import type { HttpCall } from '../../effects/deps';
import { DeployError } from '../../errors';
import { ROUTER_SERVICE } from '../../render/compose/compose';
import {
  COMPOSE_RELAY_CONTAINER,
  COMPOSE_RELAY_CONTROL_SOCKET,
  COMPOSE_RELAY_DIR,
  COMPOSE_RELAY_SERVICE,
} from '../../render/compose/compose-names';
import { COMPOSE_SOCKET_DIR, SHADOW_RELAY_SOCKET, SHADOW_SOCKET } from '../../spec/sockets';
import type { BackendRuntime, CaptureRequest, CaptureResult, ShadowControl, ShadowRequest, ShadowStatus } from '../backend';
import { RelayStatus } from '@mlbg/contract';
import { runCapture } from '../local/shadow/capture-run';
import { RELAY_CONFIG_PATH, RELAY_STATUS_PATH } from '../local/shadow/relay/relay';
import { type ComposeTarget, SOCKET_PROBE_SCRIPT, compose, execIn } from './compose-backend';

/** The relay container answers within seconds of a (re)start; `up -d` of it when it is missing takes a few more. */
const RELAY_ANSWER_TIMEOUT_MS = 60_000;
const POLL_MS = 1_000;
const CAPTURE_POLL_MS = 1_000;
const CAPTURE_PROGRESS_MS = 5_000;

/** The shell line, in the nginx container, that says whether the mirror's link exists. Pure. */
export const SHADOW_LINK_CHECK = `[ -L ${COMPOSE_SOCKET_DIR}/${SHADOW_SOCKET} ] && echo on || echo off`;
/** The shell line that makes the link (a new one renamed over it: nginx sees the mirror on or off, never half made). Pure. */
export const SHADOW_LINK_ON = `cd ${COMPOSE_SOCKET_DIR} && ln -sfn ${SHADOW_RELAY_SOCKET} ${SHADOW_SOCKET}.next && mv -fT ${SHADOW_SOCKET}.next ${SHADOW_SOCKET}`;
export const SHADOW_LINK_OFF = `rm -f ${COMPOSE_SOCKET_DIR}/${SHADOW_SOCKET}`;

/**
 * Shadow traffic on Compose: the relay is the `shadow-relay` service of the generated files
 * (always running, restarted by its policy), and nginx's mirror reaches it while the
 * `shadow.sock` link exists in the socket volume. On: the relay answers (started with `up -d` when
 * its container is missing), gets the share to forward, then the link is made; off: the link goes
 * (nginx answers its copies itself at once), the relay stays, idle. Its control socket is in its
 * own /tmp: every control call is a `docker exec` into its container. No nginx reload.
 */
export function composeShadow(target: ComposeTarget, runtime: BackendRuntime): ShadowControl {
  const relayCall = async (call: HttpCall): Promise<RelayStatus> => {
    const out = await execIn(target, COMPOSE_RELAY_SERVICE, [
      'node',
      '-e',
      SOCKET_PROBE_SCRIPT,
      COMPOSE_RELAY_CONTROL_SOCKET,
      call.method,
      call.path,
      ...(call.body === undefined ? [] : [call.body]),
    ]);
    const answer = JSON.parse(out.trim().split('\n').pop() ?? '') as { status: number; body: string };
    if (answer.status !== 200) throw new Error(`the relay answered ${answer.status}: ${answer.body.slice(0, 200)}`);
    return RelayStatus.parse(JSON.parse(answer.body));
  };
  const inNginx = (script: string) => execIn(target, ROUTER_SERVICE, ['sh', '-c', script]);

  async function waitForRelay(): Promise<void> {
    const until = runtime.clock.now() + RELAY_ANSWER_TIMEOUT_MS;
    let started = false;
    for (;;) {
      try {
        await relayCall({ method: 'GET', path: RELAY_STATUS_PATH });
        return;
      } catch (error) {
        if (!started) {
          // A stack started before the relay was part of the files has no such container yet.
          runtime.progress(`shadow: the relay does not answer (${(error as Error).message}); starting ${COMPOSE_RELAY_SERVICE}...`);
          await compose(target, ['up', '-d', '--no-deps', '--no-build', COMPOSE_RELAY_SERVICE], RELAY_ANSWER_TIMEOUT_MS);
          started = true;
        } else if (runtime.clock.now() >= until) {
          throw new DeployError(
            'SHADOW_FAILED',
            `The relay (${COMPOSE_RELAY_CONTAINER}) did not answer within ${RELAY_ANSWER_TIMEOUT_MS / 1000} s (${(error as Error).message}).`,
            { hint: `See its log: \`docker logs ${COMPOSE_RELAY_CONTAINER}\`. The mirror was not turned on.` },
          );
        }
        await runtime.clock.sleep(POLL_MS);
      }
    }
  }

  async function status(): Promise<ShadowStatus> {
    const notes: string[] = [];
    const on = (await inNginx(SHADOW_LINK_CHECK)).trim() === 'on';
    let relay: RelayStatus | null = null;
    try {
      relay = await relayCall({ method: 'GET', path: RELAY_STATUS_PATH });
    } catch (error) {
      notes.push(`The relay (${COMPOSE_RELAY_CONTAINER}) does not answer: ${(error as Error).message}.`);
      if (on)
        notes.push(
          `nginx copies live requests to it, and its copies fail at once (the live requests are not affected); its restart policy brings it back, or run \`deploy:shadow off\`.`,
        );
    }
    return { on, percent: on ? (relay?.percent ?? null) : null, pid: null, relay, notes };
  }

  async function on(request: ShadowRequest): Promise<ShadowStatus> {
    await waitForRelay();
    const relay = await relayCall({ method: 'POST', path: RELAY_CONFIG_PATH, body: JSON.stringify({ percent: request.percent }) });
    if (relay.queueSize !== request.queueSize)
      runtime.progress(
        `shadow: the relay's queue holds ${relay.queueSize} copies (RELAY_QUEUE_SIZE of its service, from shadow.queueSize in deploy/deployment.json), not ${request.queueSize}`,
      );
    runtime.progress(
      `shadow: nginx mirrors live /predict to ${COMPOSE_RELAY_CONTAINER}, which forwards ${request.percent}% to the idle color`,
    );
    await inNginx(SHADOW_LINK_ON);
    return status();
  }

  async function off(): Promise<ShadowStatus & { readonly final: RelayStatus | null }> {
    const before = await status();
    await inNginx(SHADOW_LINK_OFF);
    return { ...(await status()), final: before.relay };
  }

  /**
   * `deploy:capture`: the relay writes the next `n` mirrored live bodies to a new file of its own
   * folder (in its container), which is then read out through `docker exec` into `file` and removed.
   * With shadow off, the mirror is on with 0% forwarded for the capture only.
   */
  async function capture(request: CaptureRequest): Promise<CaptureResult> {
    const before = await status();
    const shadowWasOff = !before.on;
    const name = `capture-${runtime.clock.now()}-${randomBytes(4).toString('hex')}.jsonl`;
    const inRelay = `${COMPOSE_RELAY_DIR}/${name}`;
    if (shadowWasOff) await on({ percent: 0, queueSize: request.queueSize });
    try {
      const { captured, timedOut } = await runCapture(
        {
          call: relayCall,
          clock: runtime.clock,
          progress: runtime.progress,
          pollMs: CAPTURE_POLL_MS,
          stoppingPollMs: CAPTURE_POLL_MS,
          progressMs: CAPTURE_PROGRESS_MS,
          writeFailed: (lastError) =>
            new DeployError('SHADOW_FAILED', `The relay could not write ${inRelay} in its container (${lastError}).`, {
              hint: `See \`docker logs ${COMPOSE_RELAY_CONTAINER}\`; its /tmp is a tmpfs of the container's memory.`,
            }),
          copyOut: async (file) => writeFileSync(file, await execIn(target, COMPOSE_RELAY_SERVICE, ['cat', inRelay])),
        },
        request,
        name,
      );
      return { file: request.file, n: request.n, captured, timedOut, shadowWasOff };
    } finally {
      await execIn(target, COMPOSE_RELAY_SERVICE, ['rm', '-f', inRelay]).catch(() => undefined);
      if (shadowWasOff) await off();
    }
  }

  return { on, off, status, capture };
}
