/**
 * What makes a SCIM or admin token acceptable. Tokens are the only thing between the internet and the power to
 * create and suspend Coder accounts, and the failed-authentication limit never refuses a valid token (so that it
 * cannot lock the IdP out): a token must therefore be unguessable on its own.
 */

export const MIN_TOKEN_LENGTH = 32;
/** A random token of 32+ characters has far more; a token with fewer is a pattern ("aaaa...", "1212..."). */
const MIN_DISTINCT_CHARACTERS = 8;

/** The placeholder values the repository's examples show (config/example.env, docs): never real tokens. */
export const PLACEHOLDER_TOKENS: readonly string[] = [
  'replace-with-a-long-random-token',
  'replace-with-another-long-random-token',
  'replace-with-a-coder-token',
  'replace-with-a-coder-session-token',
];

const GENERATE = 'generate one with `openssl rand -base64 48`';

/** Why `token` is not acceptable, or undefined when it is. Never quotes the token. */
export function tokenWeakness(token: string): string | undefined {
  if (PLACEHOLDER_TOKENS.includes(token.toLowerCase()) || /^replace[-_]with/i.test(token)) {
    return `is a placeholder from the examples: ${GENERATE}`;
  }
  if (token.length < MIN_TOKEN_LENGTH) return `must be at least ${MIN_TOKEN_LENGTH} characters: ${GENERATE}`;
  if (/\s/.test(token)) return 'must not contain spaces (a bearer token is one word)';
  if (new Set(token).size < MIN_DISTINCT_CHARACTERS) return `is not random (fewer than ${MIN_DISTINCT_CHARACTERS} different characters): ${GENERATE}`;
  return undefined;
}

/** One line per unacceptable token, naming its variable (and, among several SCIM tokens, its position). */
export function tokenProblems(scimTokens: readonly string[], adminToken: string | undefined): string[] {
  const problems: string[] = [];
  scimTokens.forEach((token, index) => {
    const weakness = tokenWeakness(token);
    const which = scimTokens.length > 1 ? ` (token ${index + 1} of ${scimTokens.length})` : '';
    if (weakness) problems.push(`SCIM_BEARER_TOKEN${which} ${weakness}`);
  });
  if (adminToken !== undefined) {
    const weakness = tokenWeakness(adminToken);
    if (weakness) problems.push(`ADMIN_TOKEN ${weakness}`);
    else if (scimTokens.includes(adminToken)) problems.push('ADMIN_TOKEN must differ from every SCIM_BEARER_TOKEN token (the admin API would open to the IdP)');
  }
  return problems;
}
