import { describe, expect, it } from 'vitest';
import { testConfig } from '../delivery/send-fixtures.ts';

describe('PERSONAL_ORDER and PERSONAL_ORDER_HOLDOUT', () => {
  it('default to on and a tenth of the tracked readers', () => {
    const config = testConfig();
    expect(config.personalOrder).toBe(true);
    expect(config.personalOrderHoldout).toBe(0.1);
  });

  it('read a share or a percentage between 0 and 1', () => {
    expect(testConfig({ PERSONAL_ORDER_HOLDOUT: '0.25' }).personalOrderHoldout).toBe(0.25);
    expect(testConfig({ PERSONAL_ORDER_HOLDOUT: '5%' }).personalOrderHoldout).toBe(0.05);
    expect(testConfig({ PERSONAL_ORDER_HOLDOUT: '0' }).personalOrderHoldout).toBe(0);
    expect(testConfig({ PERSONAL_ORDER_HOLDOUT: '1' }).personalOrderHoldout).toBe(1);
    expect(testConfig({ PERSONAL_ORDER: 'off' }).personalOrder).toBe(false);
  });

  it('refuse a share outside 0..1 or not a number, naming the variable', () => {
    for (const value of ['1.5', '-0.1', '150%', 'ten', '0.1.2'])
      expect(() => testConfig({ PERSONAL_ORDER_HOLDOUT: value })).toThrow(/PERSONAL_ORDER_HOLDOUT/);
    expect(() => testConfig({ PERSONAL_ORDER: 'maybe' })).toThrow(/PERSONAL_ORDER/);
  });
});
