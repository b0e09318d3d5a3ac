#!/usr/bin/env node
// The whole pipeline without Docker: builds the four services, then starts
// them against REDIS_URL (default redis://127.0.0.1:6379) with their log
// lines prefixed by the service name. Ctrl-C stops all four gracefully.
//
//   node scripts/pipeline.mjs              build, then run
//   node scripts/pipeline.mjs --no-build   run what is already built
//
// Then, in another terminal: pnpm reporunner run <repoUrl or path> [ref]
import { spawn, spawnSync } from 'node:child_process';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const services = [
  { name: 'orchestrator', port: process.env.ORCHESTRATOR_PORT ?? '3000' },
  { name: 'builder', port: process.env.BUILDER_PORT ?? '3001' },
  { name: 'runner', port: process.env.RUNNER_PORT ?? '3002' },
  { name: 'indexer', port: process.env.INDEXER_PORT ?? '3003' },
];
const env = {
  ...process.env,
  REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  WORKSPACES_DIR: process.env.WORKSPACES_DIR ?? join(tmpdir(), 'reporunner', 'workspaces'),
  INDEX_DIR: process.env.INDEX_DIR ?? join(tmpdir(), 'reporunner', 'index'),
  // A local demo runs local repositories; a deployment leaves this at https.
  ALLOWED_REPO_SCHEMES: process.env.ALLOWED_REPO_SCHEMES ?? 'https,file',
};

function say(message) {
  process.stderr.write(`[pipeline]     ${message}\n`);
}

function redisReachable(url) {
  let parsed;
  try {
    parsed = new URL(url);
  } catch {
    return Promise.resolve(false);
  }
  return new Promise((resolve) => {
    const socket = createConnection({
      host: parsed.hostname || '127.0.0.1',
      port: Number(parsed.port || 6379),
    });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(2_000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

if (!process.argv.includes('--no-build')) {
  say('building the services (turbo, cached)');
  const filters = services.map((service) => `--filter=@reporunner/${service.name}`);
  const build = spawnSync('pnpm', ['exec', 'turbo', 'run', 'build', ...filters], {
    cwd: root,
    stdio: 'inherit',
  });
  if (build.status !== 0) {
    say('build failed');
    process.exit(build.status ?? 1);
  }
}

const redisUrl = env.REDIS_URL;
if (!(await redisReachable(redisUrl))) {
  say(`no Redis answers at ${redisUrl.replace(/:[^:@/]*@/, ':***@')}`);
  say('start one (`redis-server`) or set REDIS_URL, then run this again');
  process.exit(1);
}

const width = Math.max(...services.map((service) => service.name.length)) + 2;
const children = new Map();
let stopping = false;

function prefixLines(name, stream, target) {
  let partial = '';
  const label = `[${name}]`.padEnd(width + 1);
  stream.on('data', (chunk) => {
    const lines = (partial + chunk.toString('utf8')).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) target.write(`${label} ${line}\n`);
  });
}

function stopAll(code) {
  if (stopping) return;
  stopping = true;
  say('stopping the services');
  for (const child of children.values()) child.kill('SIGTERM');
  const force = setTimeout(() => {
    for (const child of children.values()) child.kill('SIGKILL');
  }, 30_000);
  force.unref();
  const wait = setInterval(() => {
    if (children.size > 0) return;
    clearInterval(wait);
    process.exit(code);
  }, 100);
}

for (const service of services) {
  const main = join(root, 'services', service.name, 'dist', 'main.js');
  const child = spawn(process.execPath, [main], {
    cwd: root,
    env: { ...env, PORT: service.port },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.set(service.name, child);
  prefixLines(service.name, child.stdout, process.stdout);
  prefixLines(service.name, child.stderr, process.stderr);
  child.once('exit', (code, signal) => {
    children.delete(service.name);
    if (!stopping) {
      say(`${service.name} exited (${signal ?? `code ${code}`}); stopping the others`);
      stopAll(1);
    }
  });
}

process.once('SIGINT', () => stopAll(0));
process.once('SIGTERM', () => stopAll(0));
say(`orchestrator on http://127.0.0.1:${services[0].port}; workspaces in ${env.WORKSPACES_DIR}`);
say('request a run: pnpm reporunner run <repoUrl or local path> [ref]');
