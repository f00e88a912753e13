import { connect } from 'node:net';

export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * Writes bytes to the server exactly as given (no client-side checks, unlike fetch) and parses the
 * first answer. For malformed requests, over-long request lines and header floods.
 */
export function rawRequest(serverUrl: string, request: string | Buffer): Promise<RawAnswer> {
  const { hostname, port } = new URL(serverUrl);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) });
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', (error) => {
      // The server may reset after answering; what arrived before counts.
      if (chunks.length > 0) finish();
      else reject(error);
    });
    socket.on('end', finish);
    socket.on('close', finish);
    let done = false;
    function finish() {
      if (done) return;
      done = true;
      const text = Buffer.concat(chunks).toString('utf8');
      const [head = '', ...rest] = text.split('\r\n\r\n');
      const [statusLine = '', ...lines] = head.split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const cut = line.indexOf(':');
        if (cut > 0) headers[line.slice(0, cut).trim().toLowerCase()] = line.slice(cut + 1).trim();
      }
      resolve({ status: Number(statusLine.split(' ')[1] ?? 0), headers, body: rest.join('\r\n\r\n') });
    }
    // Requests here say `Connection: close` (or are malformed): the server ends the connection.
    socket.write(request);
  });
}
