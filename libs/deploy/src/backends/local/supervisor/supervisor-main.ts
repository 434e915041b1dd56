/**
 * The local stack's supervisor process: `node supervisor-main.js <plan file>` (started detached by
 * `deploy:up`, see supervised.ts). Everything it does is in {@link Supervisor}.
 */
import { Supervisor } from './supervisor';

const planFile = process.argv[2];
if (!planFile) {
  process.stderr.write('usage: supervisor-main <plan file>\n');
  process.exit(2);
}
new Supervisor(planFile).run();
