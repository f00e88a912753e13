import { describe, expect, it } from 'vitest';
import { simulatePersonalOrder, simulationTable } from '../../bench/personal-order-sim.ts';

describe('personal order simulation (short form of npm run bench -- personal-order)', () => {
  it('completes and reports 12 weeks', () => {
    const result = simulatePersonalOrder({ readers: 300 });
    expect(result.weeks.map((w) => w.week)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(
      simulationTable(result)
        .split('\n')
        .filter((line) => /^\| \d+ \|/.test(line)),
    ).toHaveLength(12);
  });
});
