import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort } from '@reporunner/testing';
import { SERVICES, type ServiceName, ServiceProcess } from './service-process.js';

/** Options of startPipeline. */
export interface PipelineOptions {
  redisUrl: string;
  /** Temp directory for workspaces, index checkouts and service logs. */
  dir: string;
  /** Extra environment for every service (short timeouts in tests). */
  env?: Record<string, string>;
}

/** The four services, each its own process. */
export class PipelineStack {
  constructor(
    readonly services: Record<ServiceName, ServiceProcess>,
    readonly logDir: string,
  ) {}

  get orchestrator(): ServiceProcess {
    return this.services.orchestrator;
  }

  /** Stops every service (SIGTERM, then SIGKILL); resolves with their exit codes. */
  async stop(): Promise<Record<ServiceName, number | null>> {
    const codes = await Promise.all(SERVICES.map((name) => this.services[name].close()));
    return Object.fromEntries(
      SERVICES.map((name, index) => [name, codes[index] ?? null]),
    ) as Record<ServiceName, number | null>;
  }
}

/** Starts the four services against `redisUrl` and waits until each is ready. */
export async function startPipeline(options: PipelineOptions): Promise<PipelineStack> {
  const logDir = join(options.dir, 'logs');
  await mkdir(logDir, { recursive: true });
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? options.dir,
    REDIS_URL: options.redisUrl,
    WORKSPACES_DIR: join(options.dir, 'workspaces'),
    INDEX_DIR: join(options.dir, 'index'),
    ALLOWED_REPO_SCHEMES: 'https,file',
    LOG_LEVEL: 'info',
    ...options.env,
  };
  const services = {} as Record<ServiceName, ServiceProcess>;
  for (const name of SERVICES) {
    services[name] = new ServiceProcess(name, await freePort(), env, join(logDir, `${name}.log`));
    services[name].start();
  }
  const stack = new PipelineStack(services, logDir);
  try {
    await Promise.all(SERVICES.map((name) => services[name].waitReady()));
  } catch (error) {
    await stack.stop();
    throw error;
  }
  return stack;
}
