// The shipped systemd units (deploy/systemd/): each passes `systemd-analyze verify` (Debian's systemd
// package; .ci/run installs it when missing) and runs the command docs/deploy.md names, as an
// unprivileged user that writes only its data and outbox folders.
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const unitsDir = path.join(root, 'deploy/systemd');
const units = readdirSync(unitsDir).filter((name) => name.endsWith('.service'));

function verify(file: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile('/usr/bin/systemd-analyze', ['verify', file], (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, output: `${stdout}${stderr}` });
    });
  });
}

/** The unit's `Key=value` lines (comments and sections left out), keys repeated as often as written. */
function settings(name: string): Array<[string, string]> {
  return readFileSync(path.join(unitsDir, name), 'utf8')
    .split('\n')
    .filter((line) => /^[A-Za-z]+=/.test(line))
    .map((line) => {
      const at = line.indexOf('=');
      return [line.slice(0, at), line.slice(at + 1)];
    });
}
const settingOf = (name: string, key: string) => settings(name).find(([k]) => k === key)?.[1];
const settingsOf = (name: string, key: string) =>
  settings(name)
    .filter(([k]) => k === key)
    .map(([, v]) => v);

describe('systemd units', () => {
  it('ships one unit each for serve, schedule and worker', () => {
    expect(units.sort()).toEqual(['recap-schedule.service', 'recap-serve.service', 'recap-worker.service']);
  });

  it.each(units)('%s passes systemd-analyze verify without a word about it', async (name) => {
    const result = await verify(path.join(unitsDir, name));
    // Other units of the machine may draw remarks; none may name ours.
    const ours = result.output.split('\n').filter((line) => line.includes(name) || line.includes(unitsDir));
    expect(ours).toEqual([]);
    expect(result.code).toBe(0);
  });

  it('verify does catch a broken unit (so the check above means something)', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const broken = path.join(mkdtempSync(path.join(tmpdir(), 'recap-unit-')), 'recap-broken.service');
    const text = readFileSync(path.join(unitsDir, 'recap-serve.service'), 'utf8')
      .replace('Restart=on-failure', 'Restartt=on-failure')
      .replace('/usr/bin/env node', '/usr/bin/no-such-node');
    writeFileSync(broken, text);
    const result = await verify(broken);
    expect(result.output).toMatch(/recap-broken\.service.*Unknown key/);
    expect(result.output).toMatch(/no-such-node/);
  });

  it.each([
    ['recap-serve.service', 'serve', 'METRICS_PORT=9464'],
    ['recap-schedule.service', 'schedule --metrics-port 9465', undefined],
    ['recap-worker.service', 'worker --follow --metrics-port 9466', undefined],
  ])('%s runs `recap %s` unprivileged, restarted on failure, hardened', (name, command, metricsEnv) => {
    expect(settingOf(name, 'ExecStart')).toBe(`/usr/bin/env node /opt/recap/bin/recap.js ${command}`);
    if (metricsEnv) expect(settingsOf(name, 'Environment')).toContain(metricsEnv);
    expect(settingOf(name, 'User')).toBe('recap');
    expect(settingOf(name, 'Restart')).toBe('on-failure');
    expect(settingOf(name, 'EnvironmentFile')).toBe('/etc/recap/.env');
    expect(settingsOf(name, 'Environment')).toContain('NODE_ENV=production');
    expect(settingOf(name, 'StateDirectory')).toBe('recap/data recap/outbox');
    expect(settingOf(name, 'ReadWritePaths')).toBe('/var/lib/recap/data /var/lib/recap/outbox');
    expect(settingsOf(name, 'Environment')).toEqual(
      expect.arrayContaining([
        'RECAP_DATA_DIR=/var/lib/recap/data',
        'RECAP_OUTBOX_DIR=/var/lib/recap/outbox',
      ]),
    );
    for (const [key, value] of [
      ['NoNewPrivileges', 'true'],
      ['ProtectSystem', 'strict'],
      ['ProtectHome', 'true'],
      ['PrivateTmp', 'true'],
      ['CapabilityBoundingSet', ''],
    ]) {
      expect(settingOf(name, key as string), `${name} ${key}`).toBe(value);
    }
    // V8 writes machine code at run time: this one would stop node at its first function.
    expect(settingOf(name, 'MemoryDenyWriteExecute')).toBeUndefined();
  });
});
