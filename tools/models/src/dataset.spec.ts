import { generateTrainingCsv, mulberry32, parseTrainingCsv, trueCurve } from './dataset';

describe('training data', () => {
  const csv = generateTrainingCsv();
  const samples = parseTrainingCsv(csv);

  it('is the same on every call (seeded)', () => {
    expect(generateTrainingCsv()).toBe(csv);
    const [a, b] = [mulberry32(7), mulberry32(7)];
    expect([a(), a(), a()]).toEqual([b(), b(), b()]);
  });

  it('holds 400 rows, every 5th held out', () => {
    expect(samples).toHaveLength(400);
    expect(samples.filter((s) => s.split === 'holdout')).toHaveLength(80);
    expect(samples.every((s, i) => (s.split === 'holdout') === (i % 5 === 4))).toBe(true);
  });

  it('covers x = 1, 2, 3 and follows the curve up to noise', () => {
    const xs = samples.map((s) => s.x);
    expect(Math.min(...xs)).toBeLessThan(1);
    expect(Math.max(...xs)).toBeGreaterThan(3);
    // Irwin–Hall noise is bounded by 6 sd = 3.
    expect(samples.every((s) => Math.abs(s.y - trueCurve(s.x)) <= 3)).toBe(true);
  });

  it('refuses a CSV it does not understand', () => {
    expect(() => parseTrainingCsv('a,b\n1,2\n')).toThrow(/header/);
    expect(() => parseTrainingCsv('x,y,split\n1,2,test\n')).toThrow(/split/);
    expect(() => parseTrainingCsv('x,y,split\n1,oops,train\n')).toThrow(/numbers/);
  });
});
