import type { FastifyInstance } from 'fastify';
import type { WebContext } from './web-context.ts';

/** GET /archive and GET /archive/:week/:segment: past issues as sent, without personal links. */
export function registerArchiveRoutes(server: FastifyInstance, context: WebContext): void {
  void server;
  void context;
}
