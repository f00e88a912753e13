import { describe, expect, it } from 'vitest';
import { isRetryableTransactionError, retryTransaction } from '../../src/db/retry-transaction.ts';

function pgError(code: string, message = `failed with ${code}`): Error & { code: string } {
  return Object.assign(new Error(message), { code });
}

describe('retryTransaction', () => {
  it('runs again after serialization failures and deadlocks, with capped, jittered waits', async () => {
    const waits: number[] = [];
    const failures = [
      pgError('40001'),
      pgError('40P01'),
      pgError('40001'),
      pgError('40001'),
      pgError('40001'),
    ];
    let runs = 0;
    const result = await retryTransaction(
      async () => {
        runs += 1;
        const failure = failures.shift();
        if (failure) throw failure;
        return 'done';
      },
      { baseDelayMs: 20, maxDelayMs: 100, random: () => 0.5, sleep: async (ms) => waits.push(ms) },
    );
    expect(result).toBe('done');
    expect(runs).toBe(6);
    // Half of 20, 40, 80, then the cap of 100 twice.
    expect(waits).toEqual([10, 20, 40, 50, 50]);
  });

  it('throws any other error at once, and the last retryable one when the attempts run out', async () => {
    let runs = 0;
    const sleep = async () => {};
    await expect(
      retryTransaction(
        async () => {
          runs += 1;
          throw pgError('23505', 'duplicate key');
        },
        { sleep },
      ),
    ).rejects.toThrow('duplicate key');
    expect(runs).toBe(1);

    runs = 0;
    await expect(
      retryTransaction(
        async () => {
          runs += 1;
          throw pgError('40001', `attempt ${runs}`);
        },
        { attempts: 3, sleep },
      ),
    ).rejects.toThrow('attempt 3');
    expect(runs).toBe(3);
  });

  it('knows the retryable codes and nothing else', () => {
    expect(isRetryableTransactionError(pgError('40001'))).toBe(true);
    expect(isRetryableTransactionError(pgError('40P01'))).toBe(true);
    expect(isRetryableTransactionError(pgError('57P01'))).toBe(false);
    expect(isRetryableTransactionError(new Error('no code'))).toBe(false);
    expect(isRetryableTransactionError(null)).toBe(false);
  });
});
