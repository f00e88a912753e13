import pino, { type Logger } from 'pino';
import type { Config } from '../config.ts';

export type { Logger } from 'pino';

/** What a service's log needs to know about where it writes. */
export interface LogDestination {
  write(text: string): unknown;
  /** A terminal gets human lines unless LOG_FORMAT says otherwise. */
  isTTY?: boolean;
}

/**
 * The one logger of a long-running service (`recap serve`, `recap schedule`, `recap worker --follow`):
 * one JSON line per event (pino), or one human line per event (LOG_FORMAT=pretty, the default on a
 * terminal). Errors carry their type, message and code; their stack only at LOG_LEVEL=debug.
 * Fastify takes it as its logger; the domain's `log(line)` callbacks write through it.
 */
export function createServiceLogger(
  settings: Config['log'],
  destination: LogDestination = process.stdout,
): Logger {
  const format = settings.format ?? (destination.isTTY ? 'pretty' : 'json');
  const withStacks = settings.level === 'debug';
  const errorSerializer = (error: unknown) => serializeError(error, withStacks);
  return pino(
    {
      level: settings.level,
      timestamp: pino.stdTimeFunctions.isoTime,
      base: { pid: process.pid },
      serializers: { err: errorSerializer, error: errorSerializer },
    },
    format === 'pretty' ? { write: (line: string) => destination.write(prettyLine(line)) } : destination,
  );
}

/** pino's error shape, its stack (and its aggregated errors' stacks) left out unless asked for. */
function serializeError(error: unknown, withStack: boolean): unknown {
  if (!(error instanceof Error)) return error;
  const serialized = pino.stdSerializers.err(error) as ReturnType<typeof pino.stdSerializers.err> & {
    aggregateErrors?: unknown[];
  };
  if (withStack) return serialized;
  const { stack: _stack, aggregateErrors, ...rest } = serialized;
  return aggregateErrors
    ? { ...rest, aggregateErrors: aggregateErrors.map((inner) => serializeError(inner, false)) }
    : rest;
}

const LEVEL_NAMES: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};

/**
 * One JSON log line as a person reads it: `2026-12-07T02:50:01.123Z INFO  message key=value …`; the
 * stack (debug only) on the lines below. Pure.
 */
export function prettyLine(json: string): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.endsWith('\n') ? json : `${json}\n`;
  }
  const { level, time, msg, pid: _pid, hostname: _hostname, err, component, ...fields } = record;
  const name = (LEVEL_NAMES[Number(level)] ?? String(level)).padEnd(5);
  const error = err as { message?: string; stack?: string } | undefined;
  const detail = Object.entries(fields).map(([key, value]) => ` ${key}=${formatValue(value)}`);
  const errorText = error?.message ? ` (${error.message})` : '';
  const stack = error?.stack ? `\n${error.stack}` : '';
  const from = typeof component === 'string' ? `${component}: ` : '';
  return `${String(time ?? '')} ${name} ${from}${String(msg ?? '')}${errorText}${detail.join('')}${stack}\n`;
}

function formatValue(value: unknown): string {
  if (typeof value === 'string') return /[\s"=]/.test(value) ? JSON.stringify(value) : value;
  return JSON.stringify(value);
}
