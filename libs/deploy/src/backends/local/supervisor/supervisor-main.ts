/**
 * The local stack's supervisor process: `node supervisor-main.js <plan file>` (started detached by
 * `deploy:up`, see supervisor-control.ts). Everything it does is in {@link Supervisor}.
 */
import { fileHistory } from '../../../history/store';
import { Supervisor } from './supervisor';
import { readPlan } from './supervisor-files';

const planFile = process.argv[2];
if (!planFile) {
  process.stderr.write('usage: supervisor-main <plan file>\n');
  process.exit(2);
}
new Supervisor(planFile, fileHistory(readPlan(planFile).historyFile)).run();
