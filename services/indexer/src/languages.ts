/** Language by file extension (lower case, with the dot). */
const BY_EXTENSION: Record<string, string> = {
  '.ts': 'TypeScript',
  '.tsx': 'TypeScript',
  '.mts': 'TypeScript',
  '.cts': 'TypeScript',
  '.js': 'JavaScript',
  '.jsx': 'JavaScript',
  '.mjs': 'JavaScript',
  '.cjs': 'JavaScript',
  '.json': 'JSON',
  '.md': 'Markdown',
  '.markdown': 'Markdown',
  '.yml': 'YAML',
  '.yaml': 'YAML',
  '.toml': 'TOML',
  '.xml': 'XML',
  '.html': 'HTML',
  '.htm': 'HTML',
  '.css': 'CSS',
  '.scss': 'SCSS',
  '.py': 'Python',
  '.go': 'Go',
  '.rs': 'Rust',
  '.java': 'Java',
  '.kt': 'Kotlin',
  '.cs': 'C#',
  '.c': 'C',
  '.h': 'C',
  '.cc': 'C++',
  '.cpp': 'C++',
  '.hpp': 'C++',
  '.rb': 'Ruby',
  '.php': 'PHP',
  '.swift': 'Swift',
  '.sh': 'Shell',
  '.bash': 'Shell',
  '.sql': 'SQL',
  '.proto': 'Protocol Buffers',
  '.txt': 'Text',
};

/** Language by whole file name, for files without a telling extension. */
const BY_NAME: Record<string, string> = {
  Makefile: 'Makefile',
  makefile: 'Makefile',
  GNUmakefile: 'Makefile',
  Dockerfile: 'Dockerfile',
};

/** The language of a path, or `Other`. */
export function languageOf(path: string): string {
  const name = path.slice(path.lastIndexOf('/') + 1);
  const byName = BY_NAME[name];
  if (byName !== undefined) return byName;
  if (name.startsWith('Dockerfile.')) return 'Dockerfile';
  const dot = name.lastIndexOf('.');
  if (dot <= 0) return 'Other';
  return BY_EXTENSION[name.slice(dot).toLowerCase()] ?? 'Other';
}

/** Root files that tell what kind of project a repository is, in the order reported. */
export const MANIFESTS = [
  'reporunner.json',
  'package.json',
  'package-lock.json',
  'pnpm-lock.yaml',
  'yarn.lock',
  'tsconfig.json',
  'Makefile',
  'Dockerfile',
  'docker-compose.yml',
  'go.mod',
  'Cargo.toml',
  'pyproject.toml',
  'requirements.txt',
  'pom.xml',
  'build.gradle',
  'README.md',
  'LICENSE',
];
