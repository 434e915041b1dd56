import { float32Json, shortestFloat32 } from './float32';

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

/** Values where shortestFloat32 or float32Json differ from the definition (for finite values, its JSON). */
function mismatches(values: Iterable<number>): [number, number | string, number | string][] {
  const found: [number, number | string, number | string][] = [];
  for (const value of values) {
    const fast = shortestFloat32(value);
    const expected = byDefinition(value);
    if (!Object.is(fast, expected) && !(Number.isNaN(fast) && Number.isNaN(expected))) found.push([value, fast, expected]);
    if (Number.isFinite(value) && float32Json(value) !== JSON.stringify(expected))
      found.push([value, float32Json(value), JSON.stringify(expected)]);
  }
  return found;
}

/** Every float32 of one binary exponent (0..254) with a mantissa near its ends, plus `count` others, both signs. */
function ofExponent(exponent: number, count: number, random: () => number): number[] {
  const mantissas = [0, 1, 2, 3, 0x7fffff, 0x7ffffe, 0x400000, ...Array.from({ length: count }, () => random() & 0x7fffff)];
  return mantissas.flatMap((mantissa) => [fromBits((exponent << 23) | mantissa), -fromBits((exponent << 23) | mantissa)]);
}

describe('shortestFloat32', () => {
  it('prints float32 values as their shortest decimal', () => {
    expect(shortestFloat32(Math.fround(3.1))).toBe(3.1);
    expect(shortestFloat32(Math.fround(0.1))).toBe(0.1);
    expect(shortestFloat32(Math.fround(-12.962847))).toBe(-12.962847);
    expect(String(shortestFloat32(Math.fround(1 / 3)))).toBe('0.33333334');
    expect(Object.is(shortestFloat32(-0), 0)).toBe(true);
  });

  it('float32Json writes what JSON.stringify writes, also for tiny, subnormal and huge values', () => {
    expect(float32Json(Math.fround(3.1))).toBe('3.1');
    expect(float32Json(Math.fround(1e-20))).toBe('1e-20');
    expect(float32Json(Math.fround(2.5e-30))).toBe('2.5e-30');
    expect(float32Json(Math.fround(1.2345e-7))).toBe('1.2345e-7');
    expect(float32Json(Math.fround(0.000001234))).toBe('0.000001234');
    expect(float32Json(1.401298464324817e-45)).toBe('1.4013e-45');
    expect(float32Json(Math.fround(1e21))).toBe('1e+21');
    expect(float32Json(Math.fround(123456789012))).toBe('123456790000');
    expect(float32Json(-0)).toBe('0');
  });

  it('equals toPrecision-based rounding on 200,000 random float32 bit patterns', () => {
    let seed = 42;
    const random = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0);
    expect(mismatches(Array.from({ length: 200_000 }, () => fromBits(random())))).toEqual([]);
  });

  it('equals it over every binary exponent of float32 (subnormals included)', () => {
    let seed = 7;
    const random = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0);
    const values = Array.from({ length: 255 }, (_, exponent) => ofExponent(exponent, 60, random)).flat();
    expect(mismatches(values)).toEqual([]);
  });

  it('equals it around every power of ten of float32, and at its edges', () => {
    const values: number[] = [];
    for (let exponent = -45; exponent <= 38; exponent++) {
      const center = bitsOf(Math.fround(10 ** exponent));
      const steps = Math.abs(exponent) <= 20 ? 500 : 100;
      for (let step = -steps; step <= steps; step++) values.push(fromBits(center + step), -fromBits(center + step));
    }
    values.push(0, -0, 1.401298464324817e-45, 1.1754943508222875e-38, 3.4028234663852886e38, -3.4028234663852886e38, Infinity, NaN);
    expect(mismatches(values)).toEqual([]);
  });
});
