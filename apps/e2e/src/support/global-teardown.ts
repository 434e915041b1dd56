import { rmSync } from 'node:fs';
import { deploy, loadStack, portInUse, processAlive } from './stack';

/** Stops the stack and fails the run if any process or port it used is left behind. */
export default async function globalTeardown(): Promise<void> {
  const stack = loadStack();
  const down = await deploy(stack.stateDir, 'down');
  const stoppedPids = (down.result?.processes ?? []).flatMap((entry) => (entry.pid === null ? [] : [entry.pid]));
  const leftovers: string[] = [];
  for (const pid of new Set([...stack.pids, ...stoppedPids])) if (processAlive(pid)) leftovers.push(`pid ${pid} still runs`);
  for (const [name, port] of Object.entries(stack.ports)) if (await portInUse(port)) leftovers.push(`${name} port ${port} still in use`);
  rmSync(stack.stateDir, { recursive: true, force: true });
  if (!down.ok || leftovers.length > 0) {
    throw new Error(`deploy down left things behind: ${[down.error?.message, ...leftovers].filter(Boolean).join('; ')}`);
  }
  console.log('e2e stack down: no process or port left');
}
