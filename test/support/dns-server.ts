import { createSocket } from 'node:dgram';
import type { AddressInfo } from 'node:net';

export interface DnsServer {
  /** host:port, as createDnsResolver takes it. */
  address: string;
  /** MX questions asked, by name (lower-cased). */
  mxQuestions: string[];
  close(): Promise<void>;
}

/**
 * A DNS server on UDP in this process answering MX questions from `mx` (domain -> exchange hosts, the
 * first preferred); names in `silent` get no answer at all (a server that times out); any other name or
 * type gets NXDOMAIN. Enough of RFC 1035 for node's resolver.
 */
export async function startDnsServer(
  mx: Record<string, string[]>,
  silent: readonly string[] = [],
): Promise<DnsServer> {
  const socket = createSocket('udp4');
  const mxQuestions: string[] = [];
  socket.on('message', (query, peer) => {
    const { name, type, end } = readQuestion(query);
    if (type === 15) mxQuestions.push(name);
    if (silent.includes(name)) return;
    const hosts = type === 15 ? mx[name] : undefined;
    const header = Buffer.alloc(12);
    query.copy(header, 0, 0, 2); // id
    header.writeUInt16BE(0x8180 | (hosts ? 0 : 3), 2); // response, recursion desired and available; NXDOMAIN
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(hosts?.length ?? 0, 6);
    const answers = (hosts ?? []).map((host, i) => {
      const exchange = encodeName(host);
      const record = Buffer.alloc(12 + 2 + exchange.length);
      record.writeUInt16BE(0xc00c, 0); // the question's name
      record.writeUInt16BE(15, 2);
      record.writeUInt16BE(1, 4);
      record.writeUInt32BE(300, 6);
      record.writeUInt16BE(2 + exchange.length, 10);
      record.writeUInt16BE(10 * (i + 1), 12);
      exchange.copy(record, 14);
      return record;
    });
    socket.send(Buffer.concat([header, query.subarray(12, end), ...answers]), peer.port, peer.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address() as AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    mxQuestions,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

function readQuestion(query: Buffer): { name: string; type: number; end: number } {
  const labels: string[] = [];
  let at = 12;
  while (at < query.length && query[at] !== 0) {
    const length = query[at] as number;
    labels.push(query.subarray(at + 1, at + 1 + length).toString('ascii'));
    at += length + 1;
  }
  at += 1;
  return { name: labels.join('.').toLowerCase(), type: query.readUInt16BE(at), end: at + 4 };
}

function encodeName(name: string): Buffer {
  const parts = name.split('.').filter(Boolean);
  return Buffer.concat([
    ...parts.map((part) => Buffer.concat([Buffer.from([part.length]), Buffer.from(part, 'ascii')])),
    Buffer.from([0]),
  ]);
}
