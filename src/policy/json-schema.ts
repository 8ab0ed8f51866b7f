import { z } from 'zod';
import { accessPolicySchema } from './schema';

/**
 * The JSON Schema of the access-policy file (draft-07, what editors and the YAML language server read).
 * Cross-field rules (owner needs allowOwner, a group grant needs match.groups, a match needs a group or a
 * role) exist only in the zod schema:
 * JSON Schema cannot point at the offending list entry, and `policy check` reports them.
 */
export function policyJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(accessPolicySchema, { target: 'draft-7', io: 'input' }),
    title: 'coder-scim-bridge access policy (ACCESS_POLICY_FILE)',
  };
}
