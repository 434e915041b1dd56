import type { Lock } from '../effects/lock';
import type { Backend } from './backend';

/**
 * The backend, with each change (up, down, release, a route move, shadow on/off, a capture) made
 * only while the command's lock is surely held (`Lock.assertHeld`): a command whose lock was
 * compromised or whose Lease was lost stops before its next change. Reads pass through.
 */
export function changesUnderLock(backend: Backend, lock: Lock): Backend {
  const check = () => lock.assertHeld?.();
  // On top of the backend, so its getters (read at each use) stay as they are.
  const guarded = Object.create(backend) as Backend;
  const shadow = backend.shadow;
  const changes: Partial<Backend> = {
    up: async (request) => (check(), backend.up(request)),
    down: async (request) => (check(), backend.down(request)),
    release: async (request) => (check(), backend.release(request)),
    setRoutes: async (routes) => (check(), backend.setRoutes(routes)),
    ...(shadow
      ? {
          shadow: {
            ...shadow,
            on: async (request) => (check(), shadow.on(request)),
            off: async () => (check(), shadow.off()),
            capture: async (request) => (check(), shadow.capture(request)),
          },
        }
      : {}),
  };
  return Object.defineProperties(
    guarded,
    Object.fromEntries(Object.entries(changes).map(([name, value]) => [name, { value, enumerable: true }])),
  ) as Backend;
}
