import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTerminus, HealthCheckError } from '@godaddy/terminus';
import type { Logger } from 'pino';

/** A readiness probe: resolves with details when ready, rejects when not. */
export type ReadinessCheck = () => Promise<unknown>;

/** Options for startHttpServer. */
export interface HttpServerOptions {
  logger: Logger;
  /** 0 picks a free port; the bound one is returned. */
  port: number;
  host: string;
  /** The service's own routes (an express app); a 404 for everything else when absent. */
  app?: RequestListener;
  /** Checks behind `/health/ready`, by name; all must pass. `/health/live` always passes. */
  readiness: Record<string, ReadinessCheck>;
  /**
   * Runs once on SIGTERM or SIGINT, before the server closes: stop consumers,
   * close connections. The process then exits with code 0.
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
      '/health/ready': () => runReadiness(options.readiness),
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

/**
 * Runs every check at once; the response lists each by name. One failure makes
 * the whole probe fail with 503, with the details of every check.
 */
export async function runReadiness(
  checks: Record<string, ReadinessCheck>,
): Promise<Record<string, unknown>> {
  const names = Object.keys(checks);
  const results = await Promise.allSettled(names.map((name) => checks[name]?.()));
  const details: Record<string, unknown> = {};
  const failed: string[] = [];
  results.forEach((result, index) => {
    const name = names[index] as string;
    if (result.status === 'fulfilled') {
      details[name] = result.value ?? { status: 'Healthy' };
    } else {
      failed.push(name);
      details[name] = { status: 'Unhealthy', error: errorMessage(result.reason) };
    }
  });
  if (failed.length > 0) throw new HealthCheckError(`not ready: ${failed.join(', ')}`, details);
  return details;
}

function errorMessage(error: unknown): string {
  if (error instanceof HealthCheckError) return error.message;
  return error instanceof Error ? error.message : String(error);
}

const notFound: RequestListener = (_request, response) => {
  response.statusCode = 404;
  response.setHeader('content-type', 'application/json');
  response.end('{"error":"not found"}');
};
