import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Debian's nginx (packages nginx or nginx-light): .ci/run installs it when missing. */
export const nginxBinary = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((file) => existsSync(file)) ?? 'nginx';

export interface RunningNginx {
  /** Its own prefix folder: configuration, pid, logs, temporary files, certificates. */
  dir: string;
  /** Everything nginx wrote to stderr (its error log). */
  output(): string;
  stop(): Promise<void>;
}

/** A fresh folder nginx's workers (`nobody` under root) can traverse, for the prefix and certificates. */
export function nginxDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'recap-nginx-'));
  chmodSync(dir, 0o755);
  return dir;
}

/**
 * Runs nginx in the foreground (`nginx -p DIR -c DIR/nginx.conf -g 'daemon off;'`) with `site` (server and
 * upstream blocks, as a file of sites-enabled holds them) inside a minimal http block whose pid, logs and
 * temporary paths are all in DIR; resolves once every port in `ports` accepts connections on 127.0.0.1.
 */
export async function startNginx(site: string, ports: number[], dir = nginxDir()): Promise<RunningNginx> {
  mkdirSync(path.join(dir, 'logs'), { recursive: true });
  writeFileSync(path.join(dir, 'site.conf'), site);
  const temp = (name: string) => path.join(dir, 'temp', name);
  writeFileSync(
    path.join(dir, 'nginx.conf'),
    [
      'worker_processes 1;',
      'error_log stderr notice;',
      `pid ${path.join(dir, 'nginx.pid')};`,
      'events { worker_connections 256; }',
      'http {',
      `  access_log ${path.join(dir, 'logs/access.log')};`,
      `  client_body_temp_path ${temp('body')};`,
      `  proxy_temp_path ${temp('proxy')};`,
      `  fastcgi_temp_path ${temp('fastcgi')};`,
      `  uwsgi_temp_path ${temp('uwsgi')};`,
      `  scgi_temp_path ${temp('scgi')};`,
      `  include ${path.join(dir, 'site.conf')};`,
      '}',
      '',
    ].join('\n'),
  );
  mkdirSync(path.join(dir, 'temp'), { recursive: true, mode: 0o755 });
  // A configuration nginx refuses fails here, with nginx's own words.
  execFileSync(nginxBinary, ['-t', '-p', dir, '-c', path.join(dir, 'nginx.conf')], { stdio: 'pipe' });
  const child: ChildProcess = spawn(
    nginxBinary,
    ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-g', 'daemon off;'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 30_000;
  for (const port of ports) {
    while (!(await accepts(port))) {
      if (child.exitCode !== null || Date.now() > deadline)
        throw new Error(`nginx did not listen on ${port}:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  return {
    dir,
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** A self-signed certificate for `name` (openssl), as cert.pem and key.pem in `dir`. */
export function selfSignedCertificate(dir: string, name: string): { cert: string; key: string } {
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '2',
      '-subj',
      `/CN=${name}`,
      '-addext',
      `subjectAltName=DNS:${name}`,
    ],
    { stdio: 'pipe' },
  );
  return { cert, key };
}

export interface ProxiedAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * One request as an outside visitor makes it: to the proxy on 127.0.0.1:`port`, from the local address
 * `from` (e.g. 127.0.0.2, so the proxy and the server see another client than themselves), over TLS
 * when `tls` gives the name and certificate to check. Redirects are not followed.
 */
export function proxiedRequest(
  options: {
    port: number;
    from: string;
    tls?: { servername: string; ca: string };
    hostHeader: string;
  },
  target: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<ProxiedAnswer> {
  return new Promise((resolve, reject) => {
    const settings = {
      host: '127.0.0.1',
      port: options.port,
      localAddress: options.from,
      path: target,
      method: init.method ?? 'GET',
      headers: { host: options.hostHeader, ...init.headers },
      agent: false as const,
    };
    const onAnswer = (res: import('node:http').IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
        }),
      );
      res.on('error', reject);
    };
    const req = options.tls
      ? httpsRequest({ ...settings, servername: options.tls.servername, ca: options.tls.ca }, onAnswer)
      : httpRequest(settings, onAnswer);
    req.on('error', reject);
    req.end(init.body);
  });
}
