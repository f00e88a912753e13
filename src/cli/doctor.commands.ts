import { isIP } from 'node:net';
import type { Command } from 'commander';
import { UserError } from '../errors.ts';

/** `recap doctor [--dns SERVER] [--ip ADDRESS]…` */
export function registerDoctorCommand(program: Command): void {
  program
    .command('doctor')
    .description(
      'check what receivers check (SPF, DKIM, DMARC), PUBLIC_URL and one-click unsubscribe, RECAP_SECRET, the database and SMTP; exit 1 on a failure',
    )
    .option('--dns <server>', 'ask this DNS server (ip or ip:port) instead of the system resolver')
    .option(
      '--ip <address>',
      'address of a host that hands mail to receivers, for SPF (repeatable; default: the addresses of SMTP_URL host)',
      (value: string, previous: string[] = []) => {
        if (!isIP(value)) throw new UserError(`--ip: expected an IP address, got "${value}"`);
        return [...previous, value];
      },
    )
    .action(async (options: { dns?: string; ip?: string[] }) => {
      const { runDoctor } = await import('../doctor/run-doctor.ts');
      const { loadConfig } = await import('../config.ts');
      const checks = await runDoctor({
        config: loadConfig(),
        ...(options.dns ? { dnsServer: options.dns } : {}),
        ...(options.ip ? { sendingIps: options.ip } : {}),
      });
      for (const check of checks) {
        process.stdout.write(`${check.ok ? '✓' : '✗'} ${check.name}: ${check.detail}\n`);
      }
      const failed = checks.filter((check) => !check.ok).length;
      process.stdout.write(
        failed === 0
          ? `all ${checks.length} checks passed\n`
          : `${failed} of ${checks.length} checks failed\n`,
      );
      if (failed > 0) process.exitCode = 1;
    });
}
