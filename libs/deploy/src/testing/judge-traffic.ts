import type { Color } from '@mlbg/contract';
import type { Answer, ColorWindow, JudgeWindow, Served } from '../gates/judge/window';
import { judgeInterval } from '../gates/judge/judge';
import { judgeLimits } from '../gates/judge/limits';
import { DeploymentSpec } from '../spec/deployment-spec';

/**
 * Seeded, synthetic intervals for the judge's simulation spec and its bench: requests drawn from
 * a set of /predict bodies, answered by a model function, with the same error share and latency
 * distribution on both colors unless told otherwise.
 */

/** A model: one row of features in, one row of outputs out. */
export type ModelFunction = (features: readonly number[]) => number[];

/** The parts of a shipped model card (`models/<version>/model.json`) that say what it computes. */
export interface ModelCard {
  readonly transform: 'identity' | 'polynomial-2';
  readonly weights: readonly number[];
  readonly bias: number;
}

/** What a shipped model answers, from its card (tools/models/README.md: to float32 precision, as onnxruntime). */
export function modelOfCard(card: ModelCard): ModelFunction {
  return (features) => {
    const inputs = card.transform === 'polynomial-2' ? [...features, ...features.map((value) => value * value)] : [...features];
    let sum = Math.fround(card.bias);
    inputs.forEach((value, i) => (sum = Math.fround(sum + Math.fround(Math.fround(card.weights[i] ?? 0) * Math.fround(value)))));
    return [sum];
  };
}

/** mulberry32: a small seeded generator of numbers in [0, 1), the same stream everywhere. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** How the simulated traffic behaves. */
export interface Traffic {
  /** The request bodies' rows, e.g. `deploy/canary-samples.json`'s `features`; each request picks one at random. */
  readonly bodies: readonly (readonly (readonly number[])[])[];
  /** Share of requests answered 5xx (no answer recorded). */
  readonly errorShare: number;
  /** Median latency in ms; the times are log-normal around it and rounded to whole ms, as nginx logs them. */
  readonly medianMs: number;
}

/** How much a simulated color serves: at least `requests` requests and at least `rows` answer rows. */
export interface SampleSize {
  readonly requests: number;
  readonly rows?: number;
}

/** One color's window: requests drawn from `traffic` and answered by `model` until `size` is reached. */
export function simulatedColor(color: Color, model: ModelFunction, size: SampleSize, traffic: Traffic, random: () => number): ColorWindow {
  const served: Served[] = [];
  const answers: Answer[] = [];
  let rows = 0;
  while (served.length < size.requests || rows < (size.rows ?? 0)) {
    // Box-Muller: a standard normal for the log-normal latency.
    const normal = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    const ms = Math.round(traffic.medianMs * Math.exp(0.5 * normal));
    const body = traffic.bodies[Math.floor(random() * traffic.bodies.length)] ?? [];
    if (random() < traffic.errorShare) {
      served.push({ status: 500, ms });
      continue;
    }
    served.push({ status: 200, ms });
    answers.push({ outputs: body.map((row) => model(row)) });
    rows += body.length;
  }
  return { color, served, answers };
}

/** An interval: the canary's and the stable's windows on the same traffic, without pairs. */
export function simulatedWindow(options: {
  readonly canary: ModelFunction;
  readonly stable: ModelFunction;
  readonly canarySize: SampleSize;
  readonly stableSize: SampleSize;
  readonly traffic: Traffic;
  readonly canaryTraffic?: Partial<Traffic>;
  readonly random: () => number;
}): JudgeWindow {
  const { traffic, random } = options;
  return {
    canary: simulatedColor('green', options.canary, options.canarySize, { ...traffic, ...options.canaryTraffic }, random),
    stable: simulatedColor('blue', options.stable, options.stableSize, traffic, random),
    pairs: [],
  };
}

/**
 * The judge's last verdict on a canary whose model negates v1.0.0's slope (its answers fail, its
 * errors and latency pass), seeded: what the dashboard's `/metrics` exports, for the specs of its text.
 */
export function negatedSlopeVerdict() {
  const negated = (row: readonly number[]) => [-4.97 * (row[0] ?? 0) - 1.95];
  const honest = (row: readonly number[]) => [4.97 * (row[0] ?? 0) - 1.95];
  const judgement = judgeInterval(
    simulatedWindow({
      canary: negated,
      stable: honest,
      canarySize: { requests: 100, rows: 400 },
      stableSize: { requests: 100, rows: 400 },
      traffic: { bodies: [[[1]], [[2]], [[3], [4]], [[0.5]]], errorShare: 0, medianMs: 2 },
      random: seededRandom(5),
    }),
    judgeLimits(DeploymentSpec.parse({})),
  );
  return {
    judgement,
    canary: 'green',
    stable: 'blue',
    canaryVersion: 'v1.0.1',
    stableVersion: 'v1.0.0',
    weight: 5,
    judgedAt: 1_700_000_000_000,
  } as const;
}
