import { assignSlots, slotOrder, unrepresentable, weightsOfSlots } from './slots';

describe('live slots', () => {
  it('gives each color as many of the 20 slots as its weight says, and reads the weights back', () => {
    for (const green of [0, 5, 25, 50, 75, 100]) {
      const assignment = assignSlots({ blue: 100 - green, green }, 20);
      expect(assignment).toHaveLength(20);
      expect(assignment.filter((color) => color === 'green')).toHaveLength(green / 5);
      expect(weightsOfSlots(assignment)).toEqual({ blue: 100 - green, green });
    }
  });

  it('keeps a green slot green while the weight grows (sticky clients keep the canary)', () => {
    let before = new Set<number>();
    for (const green of [5, 10, 25, 50, 75, 100]) {
      const now = new Set(assignSlots({ blue: 100 - green, green }, 20).flatMap((color, index) => (color === 'green' ? [index] : [])));
      expect([...before].filter((slot) => !now.has(slot))).toEqual([]);
      before = now;
    }
  });

  it('spreads the green slots over the cycle instead of bunching them', () => {
    const green = assignSlots({ blue: 75, green: 25 }, 20).flatMap((color, index) => (color === 'green' ? [index] : []));
    const gaps = green.slice(1).map((slot, index) => slot - (green[index] ?? 0));
    expect(Math.max(...gaps)).toBeLessThanOrEqual(6);
    expect(new Set(slotOrder(20)).size).toBe(20);
  });

  it('refuses a weight that is not a multiple of one slot, saying which multiples work', () => {
    expect(unrepresentable({ blue: 88, green: 12 }, 20)).toBe(
      'blue 88% / green 12% can not be made with 20 live slots (each carries 5%); use multiples of 5%',
    );
    expect(() => assignSlots({ blue: 88, green: 12 }, 20)).toThrow('use multiples of 5%');
    expect(unrepresentable({ blue: 88, green: 12 }, 25)).toBe(undefined);
  });
});
