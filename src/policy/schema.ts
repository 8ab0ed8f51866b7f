import { z } from 'zod';

/**
 * The access-policy file (ACCESS_POLICY_FILE): rules from IdP groups and app roles to Coder site roles,
 * organization memberships and roles, and a matched group's organization, quota, display name, avatar and
 * template access. `config/access-policy.schema.json` is generated from this schema (`npm run policy:schema`).
 */

export const SITE_ROLES = ['user-admin', 'template-admin', 'auditor', 'owner'] as const;
export type SiteRole = (typeof SITE_ROLES)[number];

/** Coder's built-in organization roles; any other valid name is a custom organization role. */
export const BUILT_IN_ORG_ROLES = ['organization-admin', 'organization-user-admin', 'organization-template-admin', 'organization-auditor'] as const;

/** Implied for every member: Coder refuses to have it assigned, so a policy naming it is a mistake. */
const IMPLIED_ORG_ROLE = 'organization-member';

export const TEMPLATE_ACCESS = ['use', 'admin'] as const;
export type TemplateAccess = (typeof TEMPLATE_ACCESS)[number];

export const ON_SUSPEND = ['leave', 'stopWorkspaces'] as const;

/** codersdk.NameValid: organization names, role names (custom roles are checked with it by Coder). */
const CODER_NAME = /^[a-zA-Z0-9]+(?:-[a-zA-Z0-9]+)*$/;
/** A template name, or a glob of one (`*` any run, `?` one character). */
const TEMPLATE_PATTERN = /^[a-zA-Z0-9*?]+(?:-[a-zA-Z0-9*?]+)*$/;

const coderName = (what: string) =>
  z
    .string()
    .max(32, `${what} must be at most 32 characters`)
    .regex(CODER_NAME, `${what} must be letters, digits and single hyphens (Coder's name rule)`);

// A pattern rather than a refinement, so that the generated JSON Schema refuses it too.
const orgRole = coderName('an organization role').regex(
  new RegExp(`^(?!${IMPLIED_ORG_ROLE}$)`),
  `${IMPLIED_ORG_ROLE} is implied for every member and cannot be granted`,
);

const organizationGrant = z
  .object({
    name: coderName('an organization name').meta({ description: 'Coder organization name' }),
    roles: z.array(orgRole).default([]).meta({
      description: `organization roles: ${BUILT_IN_ORG_ROLES.join(', ')}, or a custom organization role by name`,
    }),
  })
  .strict();

const templateGrant = z
  .object({
    name: z
      .string()
      .min(1)
      .max(64)
      .regex(TEMPLATE_PATTERN, 'a template name or glob (letters, digits, single hyphens, * and ?)')
      .meta({ description: "template name in the group's organization, or a glob (* and ?)" }),
    access: z.enum(TEMPLATE_ACCESS).meta({ description: 'use: create workspaces from it; admin: edit it' }),
  })
  .strict();

/** Coder's DisplayNameValid: empty, or at most 64 characters without leading or trailing whitespace. */
const displayName = z
  .string()
  .max(64, 'must be at most 64 characters')
  .regex(/^(?:\S(?:.*\S)?)?$/, 'must not start or end with whitespace');

const groupGrant = z
  .object({
    organization: coderName('an organization name').optional().meta({
      description: 'organization the Coder group lives in (default: CODER_ORGANIZATION)',
    }),
    quotaAllowance: z.number().int().min(0).max(2_147_483_647).optional().meta({ description: "the group's quota_allowance" }),
    displayName: displayName.optional().meta({ description: "the Coder group's display_name (default: the SCIM displayName)" }),
    avatarUrl: z.string().max(2048).optional().meta({ description: "the Coder group's avatar_url" }),
    templates: z.array(templateGrant).default([]).meta({ description: "template access of the group, in the group's organization" }),
  })
  .strict();

const match = z
  .object({
    groups: z.array(z.string().min(1).max(256)).optional().meta({
      description: 'SCIM group displayNames, exact or glob (* and ?), compared case-insensitively',
    }),
    roles: z.array(z.string().min(1).max(256)).optional().meta({
      description: 'values of the SCIM User roles attribute (Entra app roles), compared exactly',
    }),
  })
  .strict()
  .refine((m) => (m.groups?.length ?? 0) + (m.roles?.length ?? 0) > 0, { message: 'needs at least one group or role to match' });

const grants = z
  .object({
    siteRoles: z.array(z.enum(SITE_ROLES)).default([]).meta({ description: 'site roles; owner only with allowOwner: true' }),
    organizations: z.array(organizationGrant).default([]).meta({ description: 'organization memberships, with roles' }),
    group: groupGrant.optional().meta({ description: 'for each matched SCIM group: its Coder organization, quota, display name, avatar, template access' }),
  })
  .strict();

const rule = z
  .object({
    name: z.string().min(1).max(128).optional().meta({ description: 'a label for logs and reports' }),
    match,
    allowOwner: z.boolean().default(false).meta({ description: 'must be true for the rule to grant the owner site role' }),
    grants,
  })
  .strict()
  .superRefine((r, ctx) => {
    r.grants.siteRoles.forEach((role, i) => {
      if (role === 'owner' && !r.allowOwner) {
        ctx.addIssue({ code: 'custom', path: ['grants', 'siteRoles', i], message: 'owner is granted only by a rule with allowOwner: true' });
      }
    });
    if (r.grants.group && !r.match.groups?.length) {
      ctx.addIssue({ code: 'custom', path: ['grants', 'group'], message: 'a group grant needs match.groups: it applies to the matched groups' });
    }
  });

export const accessPolicySchema = z
  .object({
    version: z.literal(1).meta({ description: 'schema version of this file' }),
    onSuspend: z.enum(ON_SUSPEND).default('leave').meta({
      description: "leave: a suspended user's workspaces keep running; stopWorkspaces: the bridge stops them",
    }),
    rules: z.array(rule).max(10_000).default([]),
  })
  .strict();

export type AccessPolicy = z.output<typeof accessPolicySchema>;
export type PolicyRule = AccessPolicy['rules'][number];
export type GroupGrant = NonNullable<PolicyRule['grants']['group']>;
