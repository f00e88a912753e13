import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { assembleApp } from '../../src/cli/app.ts';
import { createStoryPuller } from '../../src/schedule/story-pulls.ts';
import { testConfig } from '../delivery/send-fixtures.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { startWebhookReceiver, type WebhookReceiver } from './webhook-receiver.ts';

describe('a failing story feed', () => {
  let test: TestDatabase;
  let receiver: WebhookReceiver;
  let feed: Server;
  let feedUrl: string;

  beforeEach(async () => {
    test = await createTestDatabase();
    receiver = await startWebhookReceiver();
    feed = createServer((_request, response) => {
      response.statusCode = 500;
      response.end('down');
    });
    await new Promise<void>((resolve) => feed.listen(0, '127.0.0.1', resolve));
    feedUrl = `http://127.0.0.1:${(feed.address() as AddressInfo).port}/stories.ndjson`;
  });
  afterEach(async () => {
    await new Promise<void>((resolve) => feed.close(() => resolve()));
    await receiver.close();
    await test.close();
  });

  it('raises one source alert however often the schedule pulls it', async () => {
    const config = testConfig({
      RECAP_STORIES_URL: feedUrl,
      INGEST_RETRIES: '0',
      ALERT_WEBHOOK_URL: receiver.url,
    });
    const app = assembleApp(config, test.db, test.kind, async () => {});
    const logged: string[] = [];
    const puller = createStoryPuller(app, (line) => logged.push(line));
    await puller.pullNow();
    await puller.pullNow();
    expect(logged.filter((line) => line.includes(feedUrl))).toHaveLength(2);
    const sourceAlerts = receiver.bodies.filter((body) => body.kind === 'source-failing');
    expect(sourceAlerts).toHaveLength(1);
    expect(JSON.stringify(sourceAlerts[0])).toContain(feedUrl);
  });
});
