import type { FastifyInstance } from 'fastify';
import type { App } from '../../app.ts';

/** Editor preview, approval and dashboard routes (bound to 127.0.0.1 unless EDITOR_TOKEN is set). */
export async function registerEditorRoutes(server: FastifyInstance, app: App): Promise<void> {
  void server;
  void app;
}
