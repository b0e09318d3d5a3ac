import { createReadStream, type PathLike } from 'node:fs';
import { lstat } from 'node:fs/promises';
import { languageOf, MANIFESTS } from './languages.js';

/** One indexed file. */
export interface FileStat {
  path: string;
  bytes: number;
  lines: number;
  language: string;
  binary: boolean;
}

/** Totals for one language. */
export interface LanguageTotal {
  language: string;
  files: number;
  bytes: number;
  lines: number;
}

/** The index of a checkout, in the shape of IndexingCompleted. */
export interface RepositoryIndex {
  totalFiles: number;
  totalBytes: number;
  totalLines: number;
  binaryFiles: number;
  /** Largest by lines first, then bytes, then name. */
  languages: LanguageTotal[];
  /** Largest by bytes first, at most LARGEST_FILES. */
  largestFiles: FileStat[];
  manifests: string[];
}

/** How many files the largest-files list keeps. */
export const LARGEST_FILES = 10;
// As git does: a NUL byte in the first 8,000 bytes makes a file binary.
const BINARY_PROBE_BYTES = 8_000;

/**
 * Indexes the tracked files `paths` of the checkout in `dir`. Paths are the
 * bytes git lists (a name need not be UTF-8); a name that is not is reported
 * with U+FFFD in place of its invalid bytes. Files are read as streams, so
 * memory does not grow with file size. Symbolic links are counted but never
 * followed (a link may point outside the checkout), and submodule directories
 * are skipped.
 */
export async function indexFiles(dir: string, paths: readonly Buffer[]): Promise<RepositoryIndex> {
  const files: FileStat[] = [];
  const prefix = Buffer.from(`${dir}/`);
  for (const raw of paths) {
    const full = Buffer.concat([prefix, raw]);
    const path = raw.toString('utf8');
    const stats = await lstat(full);
    if (stats.isSymbolicLink()) {
      files.push({ path, bytes: stats.size, lines: 0, language: 'Other', binary: false });
    } else if (stats.isFile()) {
      const { lines, binary } = await countLines(full);
      const language = binary ? 'Binary' : languageOf(path);
      files.push({ path, bytes: stats.size, lines, language, binary });
    }
  }
  return summarize(files);
}

/** Totals, languages, largest files and manifests of a list of file stats. */
export function summarize(files: readonly FileStat[]): RepositoryIndex {
  const languages = new Map<string, LanguageTotal>();
  for (const file of files) {
    const total = languages.get(file.language) ?? {
      language: file.language,
      files: 0,
      bytes: 0,
      lines: 0,
    };
    total.files += 1;
    total.bytes += file.bytes;
    total.lines += file.lines;
    languages.set(file.language, total);
  }
  const present = new Set(files.map((file) => file.path));
  return {
    totalFiles: files.length,
    totalBytes: files.reduce((sum, file) => sum + file.bytes, 0),
    totalLines: files.reduce((sum, file) => sum + file.lines, 0),
    binaryFiles: files.filter((file) => file.binary).length,
    languages: [...languages.values()].sort(
      (a, b) => b.lines - a.lines || b.bytes - a.bytes || a.language.localeCompare(b.language),
    ),
    largestFiles: [...files]
      .sort((a, b) => b.bytes - a.bytes || a.path.localeCompare(b.path))
      .slice(0, LARGEST_FILES),
    manifests: MANIFESTS.filter((name) => present.has(name)),
  };
}

/**
 * Lines of a text file: newline characters, plus one for a last line without
 * a newline. A binary file has 0 lines.
 */
export async function countLines(path: PathLike): Promise<{ lines: number; binary: boolean }> {
  let newlines = 0;
  let seen = 0;
  let last = -1;
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    if (seen < BINARY_PROBE_BYTES) {
      const probe = chunk.subarray(0, BINARY_PROBE_BYTES - seen);
      if (probe.includes(0)) return { lines: 0, binary: true };
    }
    seen += chunk.length;
    for (let index = chunk.indexOf(0x0a); index !== -1; index = chunk.indexOf(0x0a, index + 1)) {
      newlines += 1;
    }
    if (chunk.length > 0) last = chunk[chunk.length - 1] ?? -1;
  }
  const unterminated = seen > 0 && last !== 0x0a ? 1 : 0;
  return { lines: newlines + unterminated, binary: false };
}
