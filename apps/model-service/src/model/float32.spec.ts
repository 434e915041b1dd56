import { shortestFloat32 } from './float32';

/** The definition the fast version must equal, value for value. */
function byDefinition(value: number): number {
  for (let precision = 6; precision < 9; precision++) {
    const candidate = Number(value.toPrecision(precision));
    if (Math.fround(candidate) === value) return candidate;
  }
  return Number(value.toPrecision(9));
}

const bits = new Uint32Array(1);
const float = new Float32Array(bits.buffer);
const fromBits = (pattern: number) => {
  bits[0] = pattern;
  return float[0];
};
const bitsOf = (value: number) => {
  float[0] = value;
  return bits[0];
};

function mismatches(values: Iterable<number>): [number, number, number][] {
  const found: [number, number, number][] = [];
  for (const value of values) {
    const fast = shortestFloat32(value);
    const expected = byDefinition(value);
    if (!Object.is(fast, expected) && !(Number.isNaN(fast) && Number.isNaN(expected))) found.push([value, fast, expected]);
  }
  return found;
}

describe('shortestFloat32', () => {
  it('prints float32 values as their shortest decimal', () => {
    expect(shortestFloat32(Math.fround(3.1))).toBe(3.1);
    expect(shortestFloat32(Math.fround(0.1))).toBe(0.1);
    expect(shortestFloat32(Math.fround(-12.962847))).toBe(-12.962847);
    expect(String(shortestFloat32(Math.fround(1 / 3)))).toBe('0.33333334');
    expect(Object.is(shortestFloat32(-0), 0)).toBe(true);
  });

  it('equals toPrecision-based rounding on 200,000 random float32 bit patterns', () => {
    let seed = 42;
    const random = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0);
    expect(mismatches(Array.from({ length: 200_000 }, () => fromBits(random())))).toEqual([]);
  });

  it('equals it around every power of ten a prediction may have, and at the edges of float32', () => {
    const values: number[] = [];
    for (let exponent = -20; exponent <= 20; exponent++) {
      const center = bitsOf(Math.fround(10 ** exponent));
      for (let step = -500; step <= 500; step++) values.push(fromBits(center + step), -fromBits(center + step));
    }
    values.push(0, -0, 1.401298464324817e-45, 1.1754943508222875e-38, 3.4028234663852886e38, -3.4028234663852886e38, Infinity, NaN);
    expect(mismatches(values)).toEqual([]);
  });
});
