/** An access-policy file that cannot be used: one line per problem, each naming its place in the file. */
export class PolicyError extends Error {
  readonly code = 'policy_invalid';
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'}: ${problems.join('; ')}`);
    this.name = 'PolicyError';
  }
}
