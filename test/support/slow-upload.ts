import { connect, type Socket } from 'node:net';

export interface SlowUpload {
  /** The server's answer (status line and body), once it comes. */
  answer: Promise<{ status: number; head: string; body: string }>;
  /** Bytes of the body written so far. */
  sent(): number;
  /** True until the server answered or the connection ended. */
  open(): boolean;
  /** Stops sending and drops the connection. */
  close(): void;
}

/**
 * A POST whose body trickles in: `bytes` bytes (spaces, which every story format allows before the
 * first record) written every `everyMs`, announced with a Content-Length far larger than what is sent.
 * Over a raw socket, so the answer is read while the body is still being written.
 */
export function startSlowUpload(
  serverUrl: string,
  options: { token: string; path?: string; bytes?: number; everyMs?: number; contentLength?: number },
): SlowUpload {
  const { hostname, port } = new URL(serverUrl);
  const socket: Socket = connect({ host: hostname, port: Number(port) });
  const chunk = Buffer.alloc(options.bytes ?? 1, 0x20);
  let sent = 0;
  let ended = false;
  const received: Buffer[] = [];
  socket.write(
    [
      `POST ${options.path ?? '/api/stories'} HTTP/1.1`,
      `Host: ${hostname}:${port}`,
      `Authorization: Bearer ${options.token}`,
      'Content-Type: application/x-ndjson',
      `Content-Length: ${options.contentLength ?? 1_000_000}`,
      '',
      '',
    ].join('\r\n'),
  );
  const timer = setInterval(() => {
    if (ended) return;
    socket.write(chunk);
    sent += chunk.length;
  }, options.everyMs ?? 1000);
  const answer = new Promise<{ status: number; head: string; body: string }>((resolve, reject) => {
    const finish = () => {
      ended = true;
      clearInterval(timer);
      const text = Buffer.concat(received).toString('utf8');
      if (!text) return reject(new Error('the connection ended without an answer'));
      const [head = '', ...rest] = text.split('\r\n\r\n');
      resolve({ status: Number(head.split(' ')[1] ?? 0), head, body: rest.join('\r\n\r\n') });
    };
    socket.on('data', (data) => {
      received.push(data);
      // One answer is all a request gets: complete once its head and Content-Length bytes are in.
      const text = Buffer.concat(received);
      const cut = text.indexOf('\r\n\r\n');
      if (cut === -1) return;
      const length = /\r\ncontent-length:\s*(\d+)/i.exec(text.subarray(0, cut).toString('latin1'))?.[1];
      if (length !== undefined && text.length - cut - 4 >= Number(length)) {
        socket.destroy();
        finish();
      }
    });
    socket.on('error', () => finish());
    socket.on('close', () => finish());
  });
  answer.catch(() => {});
  return {
    answer,
    sent: () => sent,
    open: () => !ended,
    close: () => {
      ended = true;
      clearInterval(timer);
      socket.destroy();
    },
  };
}
