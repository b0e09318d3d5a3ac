import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTerminus } from '@godaddy/terminus';
import type { Logger } from 'pino';

/**
 * The readiness probe: resolves with details when ready, rejects (with
 * terminus's HealthCheckError for details) when not. packages/shared's
 * terminusReadiness makes one from health checks.
 */
export type Readiness = () => Promise<unknown>;

/** Options for startHttpServer. */
export interface HttpServerOptions {
  logger: Logger;
  /** 0 picks a free port; the bound one is returned. */
  port: number;
  host: string;
  /** The service's own routes (an express app); a 404 for everything else when absent. */
  app?: RequestListener;
  /** Behind `/health/ready`. `/health/live` always passes while the process serves HTTP. */
  readiness: Readiness;
  /**
   * Runs once on SIGTERM or SIGINT, after the HTTP server has stopped (terminus
   * closes it first): stop consumers, close connections. The process then exits
   * with code 0.
   */
  onShutdown: () => Promise<void>;
}

/** A listening server with terminus attached. */
export interface StartedHttpServer {
  server: Server;
  port: number;
}

/**
 * Starts the HTTP server every service has: `/health/live`, `/health/ready`
 * and the service's own routes, with graceful shutdown on SIGTERM and SIGINT
 * through @godaddy/terminus.
 */
export async function startHttpServer(options: HttpServerOptions): Promise<StartedHttpServer> {
  const { logger } = options;
  const server = createServer(options.app ?? notFound);

  createTerminus(server, {
    healthChecks: {
      '/health/live': async () => ({ alive: true }),
      '/health/ready': () => options.readiness(),
      __unsafeExposeStackTraces: false,
    },
    signals: ['SIGTERM', 'SIGINT'],
    // Open keep-alive connections get this long to finish after the listener closes.
    timeout: 5_000,
    useExit0: true,
    onSignal: async () => {
      logger.info('shutdown started');
      await options.onShutdown();
    },
    onShutdown: async () => {
      logger.info('shutdown finished');
    },
    logger: (message, error) => logger.error({ err: error }, message),
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  logger.info({ host: options.host, port }, 'http server listening');
  return { server, port };
}

const notFound: RequestListener = (_request, response) => {
  response.statusCode = 404;
  response.setHeader('content-type', 'application/json');
  response.end('{"error":"not found"}');
};
