import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ENGINE_SCRIPTS } from './engine';
import { WORKSPACE_ROOT } from './exec';
import { readTimings } from './timings';

/** Stops and removes everything the suite and prepare.sh started (cleanup.sh), then prints the phases' times. */
export default async function globalTeardown(): Promise<void> {
  // Jest calls the global teardown a second time after `bail` stopped a run: once is enough.
  const done = globalThis as { composeE2eTornDown?: boolean };
  if (done.composeE2eTornDown) return;
  done.composeE2eTornDown = true;
  const started = Date.now();
  const cleanup = spawnSync(join(ENGINE_SCRIPTS, 'cleanup.sh'), [], { cwd: WORKSPACE_ROOT, stdio: 'inherit', timeout: 5 * 60_000 });
  const timings = [...readTimings(), { what: 'cleanup (cleanup.sh)', ms: Date.now() - started, note: undefined }];
  const width = Math.max(...timings.map((timing) => timing.what.length));
  console.log(`\nCompose suite (${process.env['COMPOSE_E2E_ENGINE'] ?? 'engine'}), time per phase:`);
  for (const { what, ms, note } of timings)
    console.log(`  ${what.padEnd(width)}  ${(ms / 1000).toFixed(1).padStart(6)} s${note ? `  ${note}` : ''}`);
  if (cleanup.status !== 0)
    throw new Error(`tools/compose-e2e/engine/cleanup.sh failed (exit ${cleanup.status ?? cleanup.signal}); its messages are above.`);
}
