import { spawnSync } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Clock } from '../../effects/deps';
import { DeployError } from '../../errors';
import { LOCK_LEASE } from '../../render/kubernetes/kubernetes-names';
import type { KubeApi, LeaseSpec, LeaseView, ServiceView } from './kube-api';
import { LEASE_SECONDS, leaseLock, writesUnderLease } from './lease-lock';

/**
 * The API server's side of a Lease, in memory: create (409 when it exists), replace only at the
 * current resourceVersion (409 otherwise), every write a new resourceVersion; and the Service
 * selector patch the switch makes. Other calls are not used here.
 */
class LeaseServer {
  private version = 100;
  lease: LeaseView | undefined;
  selectors: Record<string, string> = { 'ml-live': 'blue', 'ml-preview': 'green' };
  /** Called before each read: another client acting on the Lease in between. */
  beforeRead: () => void = () => undefined;
  /** When set, a renewal (a replace by the holder) fails with this. */
  failRenewals: DeployError | Error | undefined;

  put(spec: LeaseSpec): LeaseView {
    this.lease = { ...spec, resourceVersion: String(++this.version) };
    return this.lease;
  }

  api(): KubeApi {
    const conflict = () => new DeployError('KUBE_CONFLICT', `lease ${LOCK_LEASE}: the object has been modified`);
    const unused = () => {
      throw new Error('not used by these tests');
    };
    return {
      namespace: 'ml-bluegreen',
      where: 'memory',
      proxyUrl: unused,
      readService: unused,
      patchServiceSelector: async (name, selector) => {
        this.selectors[name] = selector['color'] ?? '';
        return { name, selector, resourceVersion: String(++this.version) } satisfies ServiceView;
      },
      readDeployment: unused,
      patchDeployment: unused,
      listPods: unused,
      listEndpoints: unused,
      readLease: async () => {
        this.beforeRead();
        return this.lease;
      },
      createLease: async (_name, spec) => {
        if (this.lease) throw conflict();
        return this.put(spec);
      },
      replaceLease: async (_name, spec, resourceVersion) => {
        if (this.failRenewals && spec.holder !== undefined && spec.holder === this.lease?.holder) throw this.failRenewals;
        if (this.lease?.resourceVersion !== resourceVersion) throw conflict();
        return this.put(spec);
      },
      readConfigMap: unused,
      createConfigMap: unused,
      replaceConfigMap: unused,
      proxy: unused,
      podProxy: unused,
      serviceProxy: unused,
      readHttpRoute: unused,
      patchHttpRouteRules: unused,
    };
  }
}

/** A clock the test moves: `sleep` waits until the test has moved time past its end. */
function steppedClock(start = Date.parse('2026-12-07T12:00:00Z')) {
  let now = start;
  const clock: Clock = { now: () => now, sleep: async (ms) => void (now += ms) };
  return { clock, advance: (ms: number) => void (now += ms) };
}

const ago = (clock: Clock, seconds: number) => new Date(clock.now() - seconds * 1000);
const holder = { command: 'switch --color=green', user: 'alice' };

/** The pid of a process that has exited: no process has it (until the kernel hands it out again). */
function deadPid(): number {
  const exited = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(exited.stdout);
}
const ownPidNamespace = readlinkSync('/proc/self/ns/pid');

describe('the Lease lock', () => {
  it("keeps a live holder's Lease whose clock runs 2 minutes behind (its renewTime always looks expired): LOCKED, not taken", async () => {
    const server = new LeaseServer();
    const { clock } = steppedClock();
    const skewed = (): LeaseSpec => ({
      holder: 'release by bob on ci-7 (pid 42)',
      durationSeconds: 30,
      acquireTime: ago(clock, 300),
      renewTime: ago(clock, 120),
    });
    server.put(skewed());
    // Bob renews every few seconds, by his own (late) clock.
    server.beforeRead = () => void server.put(skewed());
    const progress: string[] = [];
    const ran: string[] = [];
    const error = await leaseLock(server.api(), clock, (line) => progress.push(line))
      .hold(holder, async () => void ran.push('action'))
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'LOCKED', message: expect.stringContaining('release by bob on ci-7 (pid 42)') });
    expect(ran).toEqual([]);
    expect(server.lease?.holder).toBe('release by bob on ci-7 (pid 42)');
  });

  it('takes over a Lease that has not changed for its duration on this client\'s clock, whatever its timestamps say (here: renewed "in the future")', async () => {
    const server = new LeaseServer();
    const { clock } = steppedClock();
    // Killed while its clock ran an hour ahead: by its timestamps it would never expire.
    server.put({ holder: 'switch by carol (killed)', durationSeconds: 30, acquireTime: ago(clock, -3600), renewTime: ago(clock, -3600) });
    const started = clock.now();
    const result = await leaseLock(server.api(), clock, () => undefined).hold({ ...holder, waitMs: 60_000 }, async () => {
      expect(server.lease?.holder).toContain('switch --color=green by alice');
      return 'done';
    });
    expect(result).toBe('done');
    // Not before it stood still for its whole duration, as this client saw it.
    expect(clock.now() - started).toBeGreaterThanOrEqual(30_000);
    expect(server.lease?.holder).toBeUndefined();
  });

  it('watches an abandoned-looking Lease for its duration even without --wait, then takes it over', async () => {
    const server = new LeaseServer();
    const { clock } = steppedClock();
    server.put({ holder: 'switch by dave (killed)', durationSeconds: 30, acquireTime: ago(clock, 600), renewTime: ago(clock, 600) });
    const progress: string[] = [];
    const started = clock.now();
    await leaseLock(server.api(), clock, (line) => progress.push(line)).hold(holder, async () => undefined);
    expect(clock.now() - started).toBeGreaterThanOrEqual(30_000);
    expect(progress.join('\n')).toContain('switch by dave (killed)');
  });

  it('stops before the next change once a renewal is refused (someone else took the Lease): LOCKED, the change not made', async () => {
    const server = new LeaseServer();
    const { clock } = steppedClock();
    const lock = leaseLock(server.api(), clock, () => undefined, { renewEveryMs: 5 });
    const api = writesUnderLease(server.api(), lock);
    const error = await lock
      .hold(holder, async () => {
        await api.patchServiceSelector('ml-live', { app: 'ml-model-service', color: 'green' }, '1');
        server.failRenewals = new DeployError('KUBE_CONFLICT', 'the object has been modified');
        await new Promise((resolve) => setTimeout(resolve, 100));
        await api.patchServiceSelector('ml-preview', { app: 'ml-model-service', color: 'blue' }, '1');
      })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'LOCKED', message: expect.stringContaining('lost') });
    expect(server.selectors).toEqual({ 'ml-live': 'green', 'ml-preview': 'green' });
  });

  it(`stops before the next change when no renewal went through for 2/3 of its ${LEASE_SECONDS} s (the API server unreachable)`, async () => {
    const server = new LeaseServer();
    const { clock, advance } = steppedClock();
    server.failRenewals = new Error('connect ECONNREFUSED');
    const lock = leaseLock(server.api(), clock, () => undefined, { renewEveryMs: 5 });
    const api = writesUnderLease(server.api(), lock);
    const error = await lock
      .hold(holder, async () => {
        await api.patchServiceSelector('ml-live', { app: 'ml-model-service', color: 'green' }, '1');
        await new Promise((resolve) => setTimeout(resolve, 50));
        advance(((LEASE_SECONDS * 2) / 3) * 1000 + 1);
        await api.patchServiceSelector('ml-preview', { app: 'ml-model-service', color: 'blue' }, '1');
      })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'LOCKED', message: expect.stringContaining('ECONNREFUSED') });
    expect(server.selectors['ml-preview']).toBe('green');
  });

  describe('a holder on this host whose pid is gone', () => {
    /** A Lease its holder renews before each read: alive, wherever its pid is. */
    function heldAndRenewed(server: LeaseServer, clock: Clock, identity: string) {
      const renewed = (): LeaseSpec => ({ holder: identity, durationSeconds: 30, acquireTime: ago(clock, 60), renewTime: ago(clock, 1) });
      server.put(renewed());
      server.beforeRead = () => void server.put(renewed());
    }

    it('is taken over at once when it ran in this PID namespace (a killed command, then --resume)', async () => {
      const server = new LeaseServer();
      const { clock } = steppedClock();
      server.put({
        holder: `switch by carol on ${hostname()} (pid ${deadPid()}, ${ownPidNamespace})`,
        durationSeconds: 30,
        acquireTime: ago(clock, 5),
        renewTime: ago(clock, 5),
      });
      const started = clock.now();
      const ran = await leaseLock(server.api(), clock, () => undefined).hold(holder, async () => server.lease?.holder);
      expect(ran).toBe(`switch --color=green by alice on ${hostname()} (pid ${process.pid}, ${ownPidNamespace})`);
      expect(clock.now()).toBe(started);
    });

    it.each([
      ['another PID namespace (a CLI in a --network host container: same hostname, its own pids)', 'pid:[1]'],
      ['no named PID namespace (the identity before namespaces were recorded, which such a container CLI also wrote)', undefined],
    ])('is kept while it renews when it ran in %s: LOCKED, not taken', async (_, namespace) => {
      const server = new LeaseServer();
      const { clock } = steppedClock();
      const identity = `release by bob on ${hostname()} (pid ${deadPid()}${namespace ? `, ${namespace}` : ''})`;
      heldAndRenewed(server, clock, identity);
      const ran: string[] = [];
      const error = await leaseLock(server.api(), clock, () => undefined)
        .hold({ ...holder, waitMs: 5_000 }, async () => void ran.push('action'))
        .catch((caught: unknown) => caught);
      expect(error).toMatchObject({ code: 'LOCKED', message: expect.stringContaining(identity) });
      expect(ran).toEqual([]);
      expect(server.lease?.holder).toBe(identity);
    });
  });
});
