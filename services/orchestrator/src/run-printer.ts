import type { RunView } from './run-view.js';

type Section = Record<string, unknown> | undefined;

/** One line per lifecycle event, as the CLI prints them while following a run. */
export function describeEvent(event: string, run: RunView): string {
  const build = run.build as Section;
  const runSection = run.run as Section;
  const index = run.index as Section;
  switch (event) {
    case 'RunRequested':
      return `requested      ${run.repoUrl} ${run.ref === '' ? '(default branch)' : `@ ${run.ref}`}`;
    case 'BuildStarted':
      return `build started  on ${String(build?.worker ?? '?')}`;
    case 'BuildSucceeded':
      return `build ok       commit ${short(build?.commitSha)}, ${String(build?.convention ?? '?')}, ${ms(build?.durationMs)}`;
    case 'BuildFailed':
      return `build failed   [${String(build?.stage ?? '?')}] ${String(build?.reason ?? '')}`;
    case 'RunStarted':
      return `run started    ${((runSection?.command as string[] | undefined) ?? []).join(' ')}`;
    case 'RunSucceeded':
      return `run ok         exit code 0, ${ms(runSection?.durationMs)}`;
    case 'RunFailed':
      return `run failed     ${String(runSection?.reason ?? '')}`;
    case 'IndexingCompleted':
      return `indexed        ${String(index?.totalFiles)} files, ${String(index?.totalLines)} lines, ${String(index?.totalBytes)} bytes${topLanguages(index)}`;
    case 'IndexingFailed':
      return `index failed   ${String(index?.reason ?? '')}`;
    default:
      return event;
  }
}

function short(sha: unknown): string {
  return typeof sha === 'string' ? sha.slice(0, 12) : '?';
}

function ms(value: unknown): string {
  return typeof value === 'number' ? `${value} ms` : '? ms';
}

function topLanguages(index: Section): string {
  const languages = index?.languages as { language: string; lines: number }[] | undefined;
  if (!languages || languages.length === 0) return '';
  const top = languages.slice(0, 3).map((entry) => `${entry.language} ${entry.lines}`);
  return ` (${top.join(', ')})`;
}

/** The last `lines` lines of a log tail, indented, for a failure report. */
export function tailLines(text: unknown, lines = 20): string {
  if (typeof text !== 'string' || text.trim() === '') return '';
  return text
    .trimEnd()
    .split('\n')
    .slice(-lines)
    .map((line) => `  | ${line}`)
    .join('\n');
}
