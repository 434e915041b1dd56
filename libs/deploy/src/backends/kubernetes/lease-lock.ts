import { hostname } from 'node:os';
import type { Clock } from '../../effects/deps';
import type { Lock, LockHolder } from '../../effects/lock';
import { DeployError } from '../../errors';
import { LOCK_LEASE } from '../../render/kubernetes/kubernetes-names';
import type { KubeApi, LeaseView } from './kube-api';

/** A Lease whose holder stopped renewing it (a killed command) is free after this long. */
export const LEASE_SECONDS = 30;
/** The holder renews this often, well inside the duration. */
const RENEW_EVERY_MS = (LEASE_SECONDS * 1000) / 3;
const RETRY_MS = 1_000;
/** Compare-and-swap attempts before giving up (each lost race is someone else taking the Lease). */
const MAX_RACES = 3;

/**
 * The commands' lock on Kubernetes: a `coordination.k8s.io` Lease, taken and renewed with
 * resourceVersion preconditions (two commands can never both think they hold it), expiring
 * LEASE_SECONDS after its last renewal, so a crashed command never locks the cluster forever.
 */
export function leaseLock(api: KubeApi, clock: Clock, progress: (line: string) => void): Lock {
  return {
    async hold<T>(holder: LockHolder, action: () => Promise<T>): Promise<T> {
      const identity = `${holder.command} by ${holder.user} on ${hostname()} (pid ${process.pid})`;
      let lease = await acquire(api, clock, identity, holder.waitMs ?? 0);
      let lost: string | undefined;
      const renew = setInterval(() => {
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
          .then((renewed) => (lease = renewed))
          .catch((error: Error) => {
            if (lost === undefined)
              progress(
                `Warning: could not renew the Lease ${api.namespace}/${LOCK_LEASE} (${error.message}); another command may take it once it expires.`,
              );
            lost = error.message;
          });
      }, RENEW_EVERY_MS);
      renew.unref();
      try {
        return await action();
      } finally {
        clearInterval(renew);
        await release(api, identity).catch((error: Error) =>
          progress(
            `Warning: could not release the Lease ${api.namespace}/${LOCK_LEASE} (${error.message}); it expires by itself within ${LEASE_SECONDS} s.`,
          ),
        );
      }
    },
  };
}

/**
 * A holder on this machine whose process is gone (a killed command: `--resume` right after it) is
 * taken over at once, as the local lock does; a holder elsewhere only when its Lease expired.
 */
function heldByDeadProcessHere(holder: string): boolean {
  const match = / on (\S+) \(pid (\d+)\)$/.exec(holder);
  if (!match || match[1] !== hostname() || Number(match[2]) === process.pid) return false;
  try {
    process.kill(Number(match[2]), 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

function expired(lease: LeaseView, now: number): boolean {
  const last = (lease.renewTime ?? lease.acquireTime)?.getTime();
  return last === undefined || now > last + lease.durationSeconds * 1000;
}

async function acquire(api: KubeApi, clock: Clock, identity: string, waitMs: number): Promise<LeaseView> {
  const until = clock.now() + waitMs;
  for (let races = 0; ;) {
    const now = new Date(clock.now());
    const mine = { holder: identity, durationSeconds: LEASE_SECONDS, acquireTime: now, renewTime: now };
    const current = await api.readLease(LOCK_LEASE);
    try {
      if (!current) return await api.createLease(LOCK_LEASE, mine);
      if (!current.holder || expired(current, now.getTime()) || heldByDeadProcessHere(current.holder))
        return await api.replaceLease(LOCK_LEASE, mine, current.resourceVersion);
    } catch (error) {
      // Someone else created or took it between our read and our write: read again, and name them.
      if (!(error instanceof DeployError && error.code === 'KUBE_CONFLICT') || ++races >= MAX_RACES) throw error;
      continue;
    }
    if (clock.now() >= until) throw refusal(api, current, now.getTime());
    await clock.sleep(RETRY_MS);
  }
}

function refusal(api: KubeApi, lease: LeaseView, now: number): DeployError {
  const renewed = lease.renewTime ? `, renewed ${Math.max(0, Math.round((now - lease.renewTime.getTime()) / 1000))} s ago` : '';
  return new DeployError(
    'LOCKED',
    `Lease ${api.namespace}/${LOCK_LEASE} is held by \`${lease.holder}\`${lease.acquireTime ? ` since ${lease.acquireTime.toISOString()}` : ''}${renewed}.`,
    {
      hint: `Wait for it to finish and run the command again. If that command was killed, its Lease expires by itself ${lease.durationSeconds} s after its last renewal (\`kubectl get lease ${LOCK_LEASE} -n ${api.namespace} -o yaml\` shows it).`,
    },
  );
}

/** Frees the Lease if it is still ours (after an expiry someone else may hold it now). */
async function release(api: KubeApi, identity: string): Promise<void> {
  const current = await api.readLease(LOCK_LEASE);
  if (!current || current.holder !== identity) return;
  await api.replaceLease(LOCK_LEASE, { durationSeconds: LEASE_SECONDS }, current.resourceVersion);
}
