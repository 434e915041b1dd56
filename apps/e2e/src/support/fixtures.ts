import type { ResultCommand } from '@mlbg/contract';
import { readHistory } from '@mlbg/deploy';
import { join } from 'node:path';
import { test as base, expect } from '@playwright/test';
import { deploy, loadStack, type DeployRun, type StackInfo } from './stack';

export const V1 = 'v1.0.0';
export const V2 = 'v1.1.0';
export const VERSION_OF = { blue: V1, green: V2 } as const;
export const EXAMPLE = { features: [[1], [2], [3]] };
export const MODELS = {
  v1: 'models/v1.0.0/model.onnx',
  v2: 'models/v1.1.0/model.onnx',
  threeFeatures: 'models/fixtures/three-features/model.onnx',
};

/** The running stack and the deploy commands, as a user runs them (`nx run deploy:<command>`). */
export class Stack {
  constructor(readonly info: StackInfo) {}

  get router(): string {
    return this.info.routerUrl;
  }

  get preview(): string {
    return this.info.previewUrl.replace(/\/$/, '');
  }

  color(color: 'blue' | 'green'): string {
    return `http://127.0.0.1:${this.info.ports[color]}`;
  }

  run<C extends ResultCommand>(command: C, ...flags: string[]): Promise<DeployRun<C>> {
    return deploy(this.info.stateDir, command, ...flags);
  }

  switchTo(color?: 'blue' | 'green') {
    return this.run('switch', ...(color ? [`--color=${color}`] : []));
  }

  async status() {
    return (await this.run('status')).result;
  }

  /** Puts the stack back as `up` left it: blue (v1.0.0) live, green (v1.1.0) on the preview. */
  async reset(): Promise<void> {
    const status = await this.status();
    const green = status.colors?.green;
    if (green?.model !== MODELS.v2 || green.pid === null || (green.replicaList ?? []).some((replica) => replica.pid === null)) {
      if (status.live === 'green') expect((await this.switchTo('blue')).ok).toBe(true);
      expect((await this.run('release', `--model=${MODELS.v2}`, '--color=green')).ok).toBe(true);
    }
    const switched = await this.switchTo('blue');
    expect(switched.ok, switched.error?.message).toBe(true);
  }
}

/** The gates that failed in the last switch or rollback the history recorded (a refused move names its refusing gate). */
export function failedGates(stack: Stack): string[] {
  const last = readHistory(join(stack.info.stateDir, 'history.jsonl'))
    .entries.filter((entry) => entry.command === 'switch' || entry.command === 'rollback')
    .at(-1);
  return last && 'gates' in last ? last.gates.filter((gate) => !gate.ok).map((gate) => gate.name) : [];
}

export const test = base.extend<{ stack: Stack }>({
  // eslint-disable-next-line no-empty-pattern
  stack: async ({}, use) => {
    await use(new Stack(loadStack()));
  },
});

export { expect };
export type { Page } from '@playwright/test';
