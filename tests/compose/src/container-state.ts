import { runCommand } from './compose-project.js';

/** What `docker inspect` says about one container of the stack. */
export interface ContainerState {
  id: string;
  /** The compose service it belongs to (`com.docker.compose.service`). */
  service: string;
  /** `running`, `exited`, `restarting`, ... */
  status: string;
  /** `healthy`, `unhealthy`, `starting`, or `none` without a healthcheck. */
  health: string;
  exitCode: number;
  oomKilled: boolean;
  restartCount: number;
  /** The user the main process runs as (`Config.User`). */
  user: string;
  /** Ports published on the host, as `hostIp:hostPort->containerPort/proto`. */
  published: string[];
}

interface InspectOutput {
  Id: string;
  RestartCount: number;
  Config: { Labels: Record<string, string> | null; User: string };
  HostConfig: {
    PortBindings: Record<string, { HostIp: string; HostPort: string }[] | null> | null;
  };
  State: {
    Status: string;
    ExitCode: number;
    OOMKilled: boolean;
    Health?: { Status: string };
  };
}

/** Inspects the given containers in one `docker inspect` call. */
export async function inspectContainers(ids: readonly string[]): Promise<ContainerState[]> {
  if (ids.length === 0) return [];
  const { stdout } = await runCommand(['docker', 'inspect', ...ids], { timeoutMs: 60_000 });
  const parsed = JSON.parse(stdout) as InspectOutput[];
  return parsed.map((container) => ({
    id: container.Id,
    service: container.Config.Labels?.['com.docker.compose.service'] ?? '?',
    status: container.State.Status,
    health: container.State.Health?.Status ?? 'none',
    exitCode: container.State.ExitCode,
    oomKilled: container.State.OOMKilled,
    restartCount: container.RestartCount,
    user: container.Config.User,
    published: Object.entries(container.HostConfig.PortBindings ?? {}).flatMap(
      ([containerPort, bindings]) =>
        (bindings ?? []).map((b) => `${b.HostIp}:${b.HostPort}->${containerPort}`),
    ),
  }));
}

/** One line per container, for failure messages: `builder running/healthy`. */
export function describeStates(states: readonly ContainerState[]): string {
  return states
    .map((s) => `${s.service} ${s.id.slice(0, 12)} ${s.status}/${s.health} exit=${s.exitCode}`)
    .join('; ');
}
