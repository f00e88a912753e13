import { isIP } from 'node:net';
import type { Command } from 'commander';
import { UserError } from '../errors.ts';

/** `recap doctor [--dns SERVER] [--ip ADDRESS]…` */
export function registerDoctorCommand(program: Command): void {
  program
    .command('doctor')
    .description(
      'check what receivers check (SPF, DKIM, DMARC), the bounce route, PUBLIC_URL, one-click unsubscribe and the client address behind the proxy, RECAP_SECRET, the database, SMTP and the bounce mailbox; prints the fix under each failure; exit 1 on a failure',
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
      const config = loadConfig();
      const bounceMailbox = config.bounceMailbox
        ? (await import('./imap-bounce-mailbox.ts')).imapBounceMailbox(config.bounceMailbox, () => {})
        : undefined;
      const checks = await runDoctor({
        config,
        ...(bounceMailbox ? { bounceMailbox } : {}),
        ...(options.dns ? { dnsServer: options.dns } : {}),
        ...(options.ip ? { sendingIps: options.ip } : {}),
      });
      for (const check of checks) {
        const mark = !check.ok ? '✗' : check.warning ? '!' : '✓';
        process.stdout.write(`${mark} ${check.name}: ${check.detail}\n`);
        // The fix under its check, indented: the record or setting, as `recap init` printed it.
        if (check.fix) process.stdout.write(`${check.fix.replace(/^/gm, '    ')}\n`);
      }
      const failed = checks.filter((check) => !check.ok).length;
      const warnings = checks.filter((check) => check.ok && check.warning).length;
      const warned = warnings === 0 ? '' : ` (${warnings} warning${warnings === 1 ? '' : 's'})`;
      process.stdout.write(
        failed === 0
          ? `all ${checks.length} checks passed${warned}\n`
          : `${failed} of ${checks.length} checks failed${warned}\n`,
      );
      if (failed > 0) process.exitCode = 1;
    });
}
