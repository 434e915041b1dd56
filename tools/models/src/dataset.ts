/** Repository-relative path of the committed training data. */
export const TRAINING_CSV_PATH = 'tools/models/data/training.csv';

const SEED = 20240601;
const ROW_COUNT = 400;
const X_MIN = 0;
const X_MAX = 6;
const NOISE_SD = 0.5;
// Every 5th row is held out: a fixed rule, so the split never depends on a random draw.
const HOLDOUT_EVERY = 5;
const X_DECIMALS = 3;
const Y_DECIMALS = 4;
const CSV_HEADER = 'x,y,split';

/** Which side of the deterministic train / held-out split a row belongs to. */
export type Split = 'train' | 'holdout';

/** One row of the training data. */
export interface Sample {
  x: number;
  y: number;
  split: Split;
}

/** The curve the data is drawn from (before noise): y = 0.5x² + 2x + 1. */
export function trueCurve(x: number): number {
  return 0.5 * x * x + 2 * x + 1;
}

/** mulberry32: a tiny seeded PRNG giving the same stream of numbers in [0, 1) everywhere. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Irwin–Hall: the sum of 12 uniforms minus 6 is close to a standard normal and uses only
// additions, so it is bit-for-bit the same on every platform (unlike log/cos in Box–Muller).
function standardNormal(random: () => number): number {
  let sum = 0;
  for (let i = 0; i < 12; i++) sum += random();
  return sum - 6;
}

// toFixed can print "-0.0000"; a plain "0.0000" reads better and parses to the same value.
function fixed(value: number, decimals: number): string {
  const text = value.toFixed(decimals);
  return Number(text) === 0 ? (0).toFixed(decimals) : text;
}

/** Generates the training CSV (`x,y,split`, LF line endings) from the fixed seed. */
export function generateTrainingCsv(): string {
  const random = mulberry32(SEED);
  const lines = [CSV_HEADER];
  for (let row = 0; row < ROW_COUNT; row++) {
    // Round x first so y is computed from the x the CSV actually holds.
    const x = Number(fixed(X_MIN + random() * (X_MAX - X_MIN), X_DECIMALS));
    const y = trueCurve(x) + NOISE_SD * standardNormal(random);
    const split: Split = row % HOLDOUT_EVERY === HOLDOUT_EVERY - 1 ? 'holdout' : 'train';
    lines.push(`${fixed(x, X_DECIMALS)},${fixed(y, Y_DECIMALS)},${split}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Parses the training CSV; the models are trained from these parsed values, not the generator's. */
export function parseTrainingCsv(csv: string): Sample[] {
  const [header, ...lines] = csv.trimEnd().split('\n');
  if (header !== CSV_HEADER) throw new Error(`training CSV: expected header "${CSV_HEADER}", got "${header}"`);
  return lines.map((line, index) => {
    const [x, y, split] = line.split(',');
    if (split !== 'train' && split !== 'holdout') {
      throw new Error(`training CSV line ${index + 2}: split must be train or holdout, got "${split}"`);
    }
    const sample: Sample = { x: Number(x), y: Number(y), split };
    if (!Number.isFinite(sample.x) || !Number.isFinite(sample.y)) {
      throw new Error(`training CSV line ${index + 2}: x and y must be numbers, got "${line}"`);
    }
    return sample;
  });
}
