import { hostname } from 'node:os';
import type { Clock } from '../../effects/deps';
import { type Lock, type LockHolder, pidNamespace } from '../../effects/lock';
import { DeployError } from '../../errors';
import { LOCK_LEASE } from '../../render/kubernetes/kubernetes-names';
import type { KubeApi, LeaseView } from './kube-api';

/** A Lease whose holder stopped renewing it (a killed command) is free once it stood still this long. */
export const LEASE_SECONDS = 30;
/** The holder renews this often, well inside the duration. */
const RENEW_EVERY_MS = (LEASE_SECONDS * 1000) / 3;
/**
 * Past this since its last renewal that went through (on its own clock), a holder can no longer be
 * sure it holds the Lease: another client may take it LEASE_SECONDS after it last saw it change.
 * client-go's leader election stops at its renew deadline for the same reason.
 */
const RENEW_DEADLINE_MS = ((LEASE_SECONDS * 2) / 3) * 1000;
const RETRY_MS = 1_000;
/** Compare-and-swap attempts before giving up (each lost race is someone else taking the Lease). */
const MAX_RACES = 3;

/** The Lease lock, which can also tell whether the Lease it holds is still surely its own. */
export interface LeaseLock extends Lock {
  /**
   * Throws LOCKED when this command holds the Lease but can not be sure of it any more (a renewal
   * was refused, or none went through for RENEW_DEADLINE_MS): the next change must not be made.
   */
  assertHeld(): void;
}

/**
 * The commands' lock on Kubernetes: a `coordination.k8s.io` Lease, taken and renewed with
 * resourceVersion preconditions (two commands can never both write it). Whether another holder's
 * Lease has expired is judged by what this client saw, never by comparing its renewTime with this
 * machine's clock (as client-go's leader election does): it is taken over only after it stood
 * still (the same resourceVersion) for its whole duration, on this client's clock. A holder whose
 * renewals fail stops before its next change (see {@link writesUnderLease}).
 */
export function leaseLock(
  api: KubeApi,
  clock: Clock,
  progress: (line: string) => void,
  options: { readonly renewEveryMs?: number } = {},
): LeaseLock {
  let held: { identity: string; renewedAt: number; lost: string | undefined; lastError: string | undefined } | undefined;
  return {
    assertHeld() {
      if (!held) return;
      const why =
        held.lost ??
        (clock.now() - held.renewedAt > RENEW_DEADLINE_MS
          ? `no renewal went through for ${Math.round((clock.now() - held.renewedAt) / 1000)} s${held.lastError ? `; the last one: ${held.lastError}` : ''}`
          : undefined);
      if (why === undefined) return;
      throw new DeployError(
        'LOCKED',
        `This command lost its Lease ${api.namespace}/${LOCK_LEASE} (${why}), so it stopped before its next change: another command may hold it now.`,
        {
          hint: `See what was changed with \`npx nx run deploy:status --backend=kubernetes\` and \`kubectl get lease ${LOCK_LEASE} -n ${api.namespace} -o yaml\`, then run the command again.`,
        },
      );
    },

    async hold<T>(holder: LockHolder, action: () => Promise<T>): Promise<T> {
      const identity = `${holder.command} by ${holder.user} on ${processSpace()}`;
      let lease = await acquire(api, clock, progress, identity, holder.waitMs ?? 0);
      const state = { identity, renewedAt: clock.now(), lost: undefined as string | undefined, lastError: undefined as string | undefined };
      held = state;
      let warned = false;
      const renew = setInterval(() => {
        if (state.lost !== undefined) return;
        api
          .replaceLease(
            LOCK_LEASE,
            {
              holder: identity,
              durationSeconds: LEASE_SECONDS,
              ...(lease.acquireTime ? { acquireTime: lease.acquireTime } : {}),
              renewTime: new Date(clock.now()),
            },
            lease.resourceVersion,
          )
          .then((renewed) => {
            lease = renewed;
            state.renewedAt = clock.now();
          })
          .catch((error: Error) => {
            state.lastError = error.message;
            // A conflict: someone else wrote the Lease (took it over). Anything else may pass; the deadline decides.
            if (error instanceof DeployError && error.code === 'KUBE_CONFLICT') state.lost = `someone else changed it: ${error.message}`;
            else if (clock.now() - state.renewedAt > RENEW_DEADLINE_MS) state.lost = `renewing failed: ${error.message}`;
            if (!warned)
              progress(
                `Warning: could not renew the Lease ${api.namespace}/${LOCK_LEASE} (${error.message}); the command stops before its next change if it can not be renewed in time.`,
              );
            warned = true;
          });
      }, options.renewEveryMs ?? RENEW_EVERY_MS);
      renew.unref();
      try {
        return await action();
      } finally {
        clearInterval(renew);
        held = undefined;
        await release(api, identity).catch((error: Error) =>
          progress(
            `Warning: could not release the Lease ${api.namespace}/${LOCK_LEASE} (${error.message}); it is taken over ${LEASE_SECONDS} s after it stops changing.`,
          ),
        );
      }
    },
  };
}

/**
 * The API, with every change of the deployment itself (a Service's selector, a Deployment, the HTTPRoute's weights) made
 * only while the Lease is surely held: a command whose Lease was lost stops before its next change.
 */
export function writesUnderLease(api: KubeApi, lock: LeaseLock): KubeApi {
  return {
    ...api,
    patchServiceSelector: (...args) => {
      lock.assertHeld();
      return api.patchServiceSelector(...args);
    },
    patchDeployment: (...args) => {
      lock.assertHeld();
      return api.patchDeployment(...args);
    },
    patchHttpRouteRules: (...args) => {
      lock.assertHeld();
      return api.patchHttpRouteRules(...args);
    },
  };
}

/**
 * Where this process's pid means something: `host (pid 123, pid:[4026531836])`. A CLI in a
 * `--network host` container has the host's name but a PID namespace (and pids) of its own.
 */
function processSpace(): string {
  const namespace = pidNamespace();
  return `${hostname()} (pid ${process.pid}${namespace ? `, ${namespace}` : ''})`;
}

/**
 * A holder in this process space (host and PID namespace) whose process is gone (a killed command:
 * `--resume` right after it) is taken over at once, as the local lock does; any other holder only
 * when its Lease expired. A holder that named no PID namespace may run in another one, where its
 * pid means another process: it waits for expiry too.
 */
function heldByDeadProcessHere(holder: string): boolean {
  const match = / on (\S+) \(pid (\d+), (pid:\[\d+\])\)$/.exec(holder);
  const namespace = pidNamespace();
  if (!match || match[1] !== hostname() || namespace === undefined || match[3] !== namespace) return false;
  const pid = Number(match[2]);
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** By its own timestamps, on this machine's clock: only a hint (the clocks may differ), never the judge. */
function looksExpired(lease: LeaseView, now: number): boolean {
  const last = (lease.renewTime ?? lease.acquireTime)?.getTime();
  return last === undefined || now > last + lease.durationSeconds * 1000;
}

async function acquire(api: KubeApi, clock: Clock, progress: (line: string) => void, identity: string, waitMs: number): Promise<LeaseView> {
  const until = clock.now() + waitMs;
  /** The held record this client is watching, since when (its clock), and whether it was seen to change. */
  let watched: { resourceVersion: string; since: number } | undefined;
  let changed = false;
  let announced = false;
  for (let races = 0; ;) {
    const now = clock.now();
    const mine = { holder: identity, durationSeconds: LEASE_SECONDS, acquireTime: new Date(now), renewTime: new Date(now) };
    const current = await api.readLease(LOCK_LEASE);
    try {
      if (!current) return await api.createLease(LOCK_LEASE, mine);
      // Released (no holder), or held by a process of this machine that is gone: free now. Held:
      // free once the same record stood still for its duration.
      if (!current.holder || heldByDeadProcessHere(current.holder))
        return await api.replaceLease(LOCK_LEASE, mine, current.resourceVersion);
      if (watched?.resourceVersion !== current.resourceVersion) {
        changed ||= watched !== undefined;
        watched = { resourceVersion: current.resourceVersion, since: now };
      } else if (now - watched.since >= current.durationSeconds * 1000) {
        return await api.replaceLease(LOCK_LEASE, mine, current.resourceVersion);
      }
    } catch (error) {
      // Someone else created or took it between our read and our write: read again, and name them.
      if (!(error instanceof DeployError && error.code === 'KUBE_CONFLICT') || ++races >= MAX_RACES) throw error;
      continue;
    }
    // A Lease that looks abandoned, and that this client has not seen change, is watched for its duration.
    const abandoned = !changed && looksExpired(current, now);
    const deadline = abandoned && watched ? Math.max(until, watched.since + current.durationSeconds * 1000) : until;
    if (now >= deadline) throw refusal(api, current, now);
    if (abandoned && !announced) {
      progress(
        `The Lease ${api.namespace}/${LOCK_LEASE} is held by \`${current.holder}\`, which looks stopped; watching it for ${current.durationSeconds} s and taking it over if it does not change.`,
      );
      announced = true;
    }
    await clock.sleep(RETRY_MS);
  }
}

function refusal(api: KubeApi, lease: LeaseView, now: number): DeployError {
  const age = lease.renewTime ? Math.round((now - lease.renewTime.getTime()) / 1000) : undefined;
  const renewed =
    age === undefined
      ? ''
      : age >= 0
        ? `, renewed ${age} s ago by this machine's clock`
        : `, renewed ${-age} s ahead of this machine's clock`;
  return new DeployError(
    'LOCKED',
    `Lease ${api.namespace}/${LOCK_LEASE} is held by \`${lease.holder}\`${lease.acquireTime ? ` since ${lease.acquireTime.toISOString()}` : ''}${renewed}.`,
    {
      hint: `Wait for it to finish and run the command again. If that command was killed, its Lease is taken over once it has not changed for ${lease.durationSeconds} s (\`kubectl get lease ${LOCK_LEASE} -n ${api.namespace} -o yaml\` shows it).`,
    },
  );
}

/** Frees the Lease if it is still ours (after an expiry someone else may hold it now). */
async function release(api: KubeApi, identity: string): Promise<void> {
  const current = await api.readLease(LOCK_LEASE);
  if (!current || current.holder !== identity) return;
  await api.replaceLease(LOCK_LEASE, { durationSeconds: LEASE_SECONDS }, current.resourceVersion);
}
