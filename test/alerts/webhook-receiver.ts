import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface WebhookReceiver {
  url: string;
  /** JSON bodies of every POST received, in order (including the ones answered with an error). */
  bodies: Array<Record<string, unknown>>;
  /** Decides each answer; default 200. Return 'hang' to never answer. */
  answer: (index: number) => number | 'hang';
  close(): Promise<void>;
}

/** A real HTTP server on a free local port that records each JSON POST. */
export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const hanging = new Set<ServerResponse>();
  const receiver: WebhookReceiver = {
    url: '',
    bodies: [],
    answer: () => 200,
    close: async () => {
      for (const response of hanging) response.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const index = receiver.bodies.length;
      receiver.bodies.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      const status = receiver.answer(index);
      if (status === 'hang') {
        hanging.add(response);
        return;
      }
      response.writeHead(status, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return receiver;
}
