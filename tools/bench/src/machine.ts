import { spawnSync } from 'node:child_process';
import { cpus, release, totalmem, type } from 'node:os';

/** Where a result was measured: enough to know whether two results are comparable. */
export interface MachineInfo {
  readonly cpuModel: string;
  readonly cores: number;
  readonly memoryMb: number;
  readonly os: string;
  readonly node: string;
  readonly nginx: string | null;
  readonly autocannon: string;
  /** 1-minute load average when the run started: other work on the machine skews absolute figures. */
  readonly loadAverageAtStart: number;
  readonly date: string;
}

/** `nginx -v` prints `nginx version: nginx/1.22.1` on stderr. */
export function nginxVersion(nginx: string | undefined): string | null {
  if (!nginx) return null;
  const run = spawnSync(nginx, ['-v'], { encoding: 'utf8' });
  return /nginx\/(\S+)/.exec(`${run.stderr}${run.stdout}`)?.[1] ?? null;
}

export function machineInfo(nginx: string | undefined, now: Date, loadAverage: number): MachineInfo {
  const cpuList = cpus();
  return {
    cpuModel: cpuList[0]?.model.trim() ?? 'unknown',
    cores: cpuList.length,
    memoryMb: Math.round(totalmem() / 1024 / 1024),
    os: `${type()} ${release()}`,
    node: process.version,
    nginx: nginxVersion(nginx),
    autocannon: (require('autocannon/package.json') as { version: string }).version,
    loadAverageAtStart: loadAverage,
    date: now.toISOString(),
  };
}
