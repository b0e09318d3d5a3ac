import { checkRepoUrl, type RepoScheme, refNameProblem } from '@reporunner/service-kit';

/** A valid POST /runs body. */
export interface RunRequestInput {
  repoUrl: string;
  /** Empty means the repository's default branch. */
  ref: string;
}

/** Why a request was refused: the field and a sentence about it. */
export interface InputProblem {
  field: string;
  message: string;
}

/** Checks a POST /runs body; returns the input or the first problem found. */
export function parseRunRequest(
  body: unknown,
  allowedSchemes: readonly RepoScheme[],
): RunRequestInput | InputProblem {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { field: 'body', message: 'must be a JSON object' };
  }
  const { repoUrl, ref } = body as Record<string, unknown>;

  if (typeof repoUrl !== 'string') return { field: 'repoUrl', message: 'must be a string' };
  const checked = checkRepoUrl(repoUrl, allowedSchemes);
  if ('problem' in checked) return { field: 'repoUrl', message: checked.problem };

  if (ref === undefined || ref === null) return { repoUrl, ref: '' };
  if (typeof ref !== 'string') return { field: 'ref', message: 'must be a string' };
  const problem = refNameProblem(ref);
  if (problem !== undefined)
    return { field: 'ref', message: `is not a valid git ref name: ${problem}` };
  return { repoUrl, ref };
}

/** Narrows parseRunRequest's answer. */
export function isInputProblem(value: RunRequestInput | InputProblem): value is InputProblem {
  return 'field' in value;
}
