/**
 * Why `ref` is not an acceptable git ref name, or undefined when it is. The
 * rules are those of `git check-ref-format --allow-onelevel` (so `main` is
 * fine), plus one of ours: a ref may not start with `-`, so that no git command
 * can ever read it as an option. See https://git-scm.com/docs/git-check-ref-format
 */
export function refNameProblem(ref: string): string | undefined {
  if (ref.length === 0) return 'must not be empty';
  if (ref.length > 255) return 'must be at most 255 characters';
  if (ref.startsWith('-')) return 'must not start with "-"';
  if (ref === '@') return 'must not be "@"';
  // Control characters, space and the characters git reserves for revision syntax.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it rejects
  if (/[\u0000-\u0020\u007f~^:?*[\\]/.test(ref)) {
    return 'must not contain spaces, control characters or any of ~ ^ : ? * [ \\';
  }
  if (ref.includes('..')) return 'must not contain ".."';
  if (ref.includes('@{')) return 'must not contain "@{"';
  if (ref.startsWith('/') || ref.endsWith('/') || ref.includes('//')) {
    return 'must not start or end with "/" or contain "//"';
  }
  if (ref.endsWith('.')) return 'must not end with "."';
  for (const component of ref.split('/')) {
    if (component.startsWith('.')) return 'no "/"-separated part may start with "."';
    if (component.endsWith('.lock')) return 'no "/"-separated part may end with ".lock"';
  }
  return undefined;
}
