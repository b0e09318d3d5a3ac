import { lstat, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The build convention a plan came from, as BuildSucceeded reports it. */
export type Convention = 'reporunner.json' | 'npm' | 'pnpm' | 'yarn' | 'make' | 'none';

/** How to install, build and run one repository; each command an argument vector. */
export interface ProjectPlan {
  convention: Convention;
  install?: string[];
  build?: string[];
  run?: string[];
}

/** The repository says how to build it, but says it wrongly (bad reporunner.json, package.json). */
export class PlanError extends Error {
  override readonly name = 'PlanError';
}

const CONFIG_FILE = 'reporunner.json';
const CONFIG_KEYS = ['install', 'build', 'run'] as const;
const MAKEFILES = ['GNUmakefile', 'makefile', 'Makefile'];

/**
 * Decides how to build and run the checkout in `dir`. In order, the first
 * that applies wins:
 * 1. `reporunner.json` with optional `install`, `build` and `run` argument arrays;
 * 2. `package.json`: install with the package manager of the lockfile
 *    (pnpm-lock.yaml, yarn.lock, package-lock.json; npm when there is none),
 *    then its `build` script if any; run its `test` script if any;
 * 3. a Makefile: `make build` (else `make all`) when that target exists; run `make test`
 *    when that target exists;
 * 4. nothing to build and nothing to run.
 */
export async function planProject(dir: string): Promise<ProjectPlan> {
  const config = await readOptional(join(dir, CONFIG_FILE));
  if (config !== undefined) return planFromConfig(config);

  const packageJson = await readOptional(join(dir, 'package.json'));
  if (packageJson !== undefined) return planNode(dir, packageJson);

  for (const name of MAKEFILES) {
    const makefile = await readOptional(join(dir, name));
    if (makefile !== undefined) return planMake(makefile);
  }
  return { convention: 'none' };
}

/** Parses the text of a reporunner.json. */
export function planFromConfig(text: string): ProjectPlan {
  const config = parseJsonObject(text, CONFIG_FILE);
  const plan: ProjectPlan = { convention: 'reporunner.json' };
  for (const key of Object.keys(config)) {
    if (key !== '$schema' && !(CONFIG_KEYS as readonly string[]).includes(key)) {
      throw new PlanError(
        `${CONFIG_FILE}: unknown key "${key}" (known: ${CONFIG_KEYS.join(', ')})`,
      );
    }
  }
  for (const key of CONFIG_KEYS) {
    const value = config[key];
    if (value === undefined) continue;
    if (!isArgv(value)) {
      throw new PlanError(
        `${CONFIG_FILE}: "${key}" must be an array of non-empty strings, for example ["npm", "test"]`,
      );
    }
    plan[key] = value;
  }
  return plan;
}

async function planNode(dir: string, text: string): Promise<ProjectPlan> {
  const manifest = parseJsonObject(text, 'package.json');
  const scripts = manifest.scripts;
  const scriptNames =
    typeof scripts === 'object' && scripts !== null ? Object.keys(scripts) : ([] as string[]);
  const manager = await packageManager(dir);
  const plan: ProjectPlan = { convention: manager.name, install: manager.install };
  if (scriptNames.includes('build')) plan.build = [manager.name, 'run', 'build'];
  if (scriptNames.includes('test')) plan.run = [manager.name, 'test'];
  return plan;
}

async function packageManager(
  dir: string,
): Promise<{ name: 'npm' | 'pnpm' | 'yarn'; install: string[] }> {
  if (await exists(join(dir, 'pnpm-lock.yaml'))) {
    return { name: 'pnpm', install: ['pnpm', 'install', '--frozen-lockfile'] };
  }
  // With CI set, Yarn 2+ refuses to change the lockfile, like Yarn 1's --frozen-lockfile.
  if (await exists(join(dir, 'yarn.lock'))) return { name: 'yarn', install: ['yarn', 'install'] };
  const locked =
    (await exists(join(dir, 'package-lock.json'))) ||
    (await exists(join(dir, 'npm-shrinkwrap.json')));
  return { name: 'npm', install: locked ? ['npm', 'ci'] : ['npm', 'install'] };
}

/** Plans from a Makefile's text. */
export function planMake(text: string): ProjectPlan {
  const targets = makeTargets(text);
  const plan: ProjectPlan = { convention: 'make' };
  if (targets.has('build')) plan.build = ['make', 'build'];
  else if (targets.has('all')) plan.build = ['make', 'all'];
  if (targets.has('test')) plan.run = ['make', 'test'];
  return plan;
}

/** Explicit targets of a Makefile (`name:` at the start of a line, not `name :=`). */
export function makeTargets(text: string): Set<string> {
  const targets = new Set<string>();
  for (const line of text.split('\n')) {
    const match = /^([A-Za-z0-9_.\-/ ]+?)\s*::?(?!=)/.exec(line);
    if (!match?.[1]) continue;
    for (const name of match[1].split(/\s+/)) if (name !== '') targets.add(name);
  }
  return targets;
}

function isArgv(value: unknown): value is string[] {
  return (
    Array.isArray(value) &&
    value.length > 0 &&
    value.every((item) => typeof item === 'string' && item !== '')
  );
}

function parseJsonObject(text: string, file: string): Record<string, unknown> {
  let value: unknown;
  try {
    // Editors on Windows save a byte order mark, which npm skips and JSON.parse refuses.
    value = JSON.parse(text.startsWith('\ufeff') ? text.slice(1) : text);
  } catch (error) {
    throw new PlanError(`${file} is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new PlanError(`${file} must contain a JSON object`);
  }
  return value as Record<string, unknown>;
}

// Project files are read only when they are small regular files: a symlink could
// point at a file of the host, whose text would come back in a parse error.
const MAX_PROJECT_FILE_BYTES = 1024 * 1024;

async function readOptional(path: string): Promise<string | undefined> {
  const name = path.slice(path.lastIndexOf('/') + 1);
  let stats: Awaited<ReturnType<typeof lstat>>;
  try {
    stats = await lstat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new PlanError(`cannot read ${name}: ${(error as NodeJS.ErrnoException).code}`);
  }
  if (!stats.isFile()) throw new PlanError(`${name} must be a regular file`);
  if (stats.size > MAX_PROJECT_FILE_BYTES) throw new PlanError(`${name} is larger than 1 MiB`);
  return readFile(path, 'utf8');
}

// Lockfiles are never read, only looked for, so their size (often several MiB)
// and whether they are links do not matter.
async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}
