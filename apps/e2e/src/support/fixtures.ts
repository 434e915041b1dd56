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

export interface SwitchOutcome {
  kind: string;
  from?: string;
  to?: string;
  color?: string;
}

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

  run<T = Record<string, unknown>>(...argv: string[]): Promise<DeployRun<T>> {
    return deploy<T>(this.info.stateDir, ...argv);
  }

  switchTo(color?: 'blue' | 'green') {
    return this.run<SwitchOutcome>('switch', ...(color ? [`--color=${color}`] : []));
  }

  async status() {
    const run = await this.run<{
      live: string;
      preview: string;
      colors: Record<string, { pid: number | null; model: string | null; replicaList?: { name: string; pid: number | null }[] }>;
    }>('status');
    return run.result;
  }

  /** Puts the stack back as `up` left it: blue (v1.0.0) live, green (v1.1.0) on the preview. */
  async reset(): Promise<void> {
    const status = await this.status();
    const green = status.colors['green'];
    if (green?.model !== MODELS.v2 || green.pid === null || (green.replicaList ?? []).some((replica) => replica.pid === null)) {
      if (status.live === 'green') expect((await this.switchTo('blue')).ok).toBe(true);
      expect((await this.run('release', `--model=${MODELS.v2}`, '--color=green')).ok).toBe(true);
    }
    const switched = await this.switchTo('blue');
    expect(switched.ok, switched.error?.message).toBe(true);
  }
}

export const test = base.extend<{ stack: Stack }>({
  // eslint-disable-next-line no-empty-pattern
  stack: async ({}, use) => {
    await use(new Stack(loadStack()));
  },
});

export { expect };
export type { Page } from '@playwright/test';
