import type { Command } from 'commander';
import { UserError } from '../errors.ts';
import { formatSunsetResult, runSunsetFor } from '../subscribers/sunset-settings.ts';
import { writeOut } from '../terminal-output.ts';
import { withApp } from './app.ts';

function address(value: string): string {
  const email = value.normalize('NFC').trim().toLowerCase();
  if (!/^[^@\s]+@[^@\s]+$/.test(email)) throw new UserError(`expected an email address, got "${value}"`);
  return email;
}

/** `recap subscriber export|erase EMAIL`, `recap subscribers invalid|sunset`. */
// Long: the table of `recap subscriber(s) …` subcommands, each a few lines.
export function registerSubscriberCommands(program: Command): void {
  const subscriber = program.command('subscriber').description("one reader's data: export or erase");
  subscriber
    .command('export')
    .description(
      'print everything stored about one subscriber as JSON (profile, segments, consent log, deliveries, events)',
    )
    .argument('<email>', 'the address')
    .action((email: string) =>
      withApp(async (app) => {
        const { exportSubscriberByEmail } = await import('../subscribers/erasure.ts');
        const data = await exportSubscriberByEmail(app.db, address(email));
        if (!data) throw new UserError('no subscriber with that address');
        writeOut(`${JSON.stringify(data, null, 2)}\n`);
      }),
    );
  subscriber
    .command('erase')
    .description(
      'erase one subscriber: their data goes, a hash of the address stops re-imports, past numbers stay (idempotent)',
    )
    .argument('<email>', 'the address')
    .action((email: string) =>
      withApp(async (app) => {
        const { eraseSubscriber } = await import('../subscribers/erasure.ts');
        const result = await eraseSubscriber(app.db, address(email), {
          ip: null,
          userAgent: null,
          source: 'cli',
        });
        // The address is not repeated: this output may end up in logs.
        const line =
          result.outcome === 'erased'
            ? `erased 1 subscriber; ${result.keptDeliveries} deliveries and ${result.keptEvents} events kept anonymously for past numbers; the address can no longer be imported or signed up`
            : result.outcome === 'already-erased'
              ? 'already erased: nothing left to remove'
              : 'no subscriber with that address; it is now on the erased list and can no longer be imported or signed up';
        writeOut(`${line}\n`);
      }),
    );

  const subscribers = program.command('subscribers').description('the whole list');
  subscribers
    .command('invalid')
    .description(
      'list stored addresses the strict address parser refuses: they are left out of every send until fixed or removed',
    )
    .option('--json', 'print them as JSON')
    .action((options: { json?: boolean }) =>
      withApp(async (app) => {
        const { listInvalidAddresses } = await import('../subscribers/address-check.ts');
        const invalid = await listInvalidAddresses(app.db);
        if (options.json) {
          writeOut(`${JSON.stringify(invalid, null, 2)}\n`);
          return;
        }
        if (invalid.length === 0) {
          writeOut('every stored address is valid\n');
          return;
        }
        writeOut(`${invalid.length} stored addresses are invalid and are not mailed:\n`);
        for (const row of invalid) writeOut(`${row.id}\t${row.status}\t${row.email}\t${row.reason}\n`);
        writeOut(
          "fix each with: UPDATE subscribers SET email = '…' WHERE id = …; or delete it (it is rechecked at the next send)\n",
        );
      }),
    );
  subscribers
    .command('sunset')
    .description(
      'ask readers inactive for SUNSET_AFTER_ISSUES sent issues "still want the recap?"; pause those who did not answer within SUNSET_GRACE_DAYS',
    )
    .action(() =>
      withApp(
        async (app) => {
          if (app.config.sunset.afterIssues === 0) {
            writeOut('sunsetting is off (SUNSET_AFTER_ISSUES=0)\n');
            return;
          }
          await app.openMailer();
          writeOut(`${formatSunsetResult(await runSunsetFor(app, app.systemMailer))}\n`);
        },
        { mailsLinks: true },
      ),
    );
}
