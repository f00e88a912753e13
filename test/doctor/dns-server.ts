import { createSocket } from 'node:dgram';
import type { AddressInfo } from 'node:net';
import dnsPacket from 'dns-packet';

/** Records by lower-case name, then type: TXT values are strings (split into 255-byte chunks here). */
export type Zone = Record<string, { TXT?: string[]; A?: string[]; MX?: string[] }>;

export interface DnsServer {
  /** `127.0.0.1:port`, for `--dns`. */
  address: string;
  /** Every question asked, as `TYPE name`. */
  asked: string[];
  close(): Promise<void>;
}

/** A real UDP DNS server on a free local port answering from `zone`: NXDOMAIN for unknown names. */
export async function startDnsServer(zone: Zone): Promise<DnsServer> {
  const socket = createSocket('udp4');
  const asked: string[] = [];
  socket.on('message', (message, remote) => {
    let query: dnsPacket.Packet;
    try {
      query = dnsPacket.decode(message);
    } catch {
      return;
    }
    const answers: dnsPacket.Answer[] = [];
    let known = true;
    for (const question of query.questions ?? []) {
      asked.push(`${question.type} ${question.name}`);
      const records = zone[question.name.toLowerCase()];
      if (!records) {
        known = false;
        continue;
      }
      if (question.type === 'TXT') {
        for (const value of records.TXT ?? []) {
          answers.push({ type: 'TXT', name: question.name, ttl: 60, data: chunks(value) });
        }
      } else if (question.type === 'MX') {
        for (const exchange of records.MX ?? [])
          answers.push({ type: 'MX', name: question.name, ttl: 60, data: { preference: 10, exchange } });
      } else if (question.type === 'A') {
        for (const value of records.A ?? [])
          answers.push({ type: 'A', name: question.name, ttl: 60, data: value });
      }
    }
    const rcode = known ? 0 : 3; // NXDOMAIN
    const response = dnsPacket.encode({
      type: 'response',
      id: query.id ?? 0,
      flags:
        dnsPacket.AUTHORITATIVE_ANSWER | dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE | rcode,
      questions: query.questions ?? [],
      answers,
    });
    socket.send(response, remote.port, remote.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${(socket.address() as AddressInfo).port}`,
    asked,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

function chunks(value: string): string[] {
  const parts: string[] = [];
  for (let at = 0; at < value.length; at += 255) parts.push(value.slice(at, at + 255));
  return parts;
}
