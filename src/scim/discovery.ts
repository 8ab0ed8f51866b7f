import { trimBase } from './render';
import { MAX_PATCH_OPERATIONS } from './limits';
import { ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, RESOURCE_TYPE_SCHEMA, SERVICE_PROVIDER_CONFIG_SCHEMA, USER_SCHEMA } from './urns';

export { schemas } from './schemas';

/** What the bridge supports, as /ServiceProviderConfig (RFC 7643 §5) and /ResourceTypes (§6) say it. */

export interface DiscoveryLimits {
  /** The most resources one list or filter response returns (the page size cap). */
  maxResults: number;
  /** The largest request body accepted, in bytes (MAX_BODY_BYTES). */
  maxPayloadSize?: number;
}

export function serviceProviderConfig(baseUrl: string, limits: DiscoveryLimits): Record<string, unknown> {
  return {
    schemas: [SERVICE_PROVIDER_CONFIG_SCHEMA],
    documentationUri: 'https://datatracker.ietf.org/doc/html/rfc7644',
    patch: { supported: true },
    // Bulk is not offered, but these are the only places the schema has for the request limits that hold for
    // every request: the operations of one PATCH and the body size.
    bulk: { supported: false, maxOperations: MAX_PATCH_OPERATIONS, maxPayloadSize: limits.maxPayloadSize ?? 0 },
    filter: { supported: true, maxResults: limits.maxResults },
    changePassword: { supported: false },
    sort: { supported: false },
    etag: { supported: true },
    authenticationSchemes: [
      {
        type: 'oauthbearertoken',
        name: 'OAuth Bearer Token',
        description: 'Authentication with a bearer token configured on the bridge (SCIM_BEARER_TOKEN)',
        specUri: 'https://datatracker.ietf.org/doc/html/rfc6750',
        primary: true,
      },
    ],
    meta: { resourceType: 'ServiceProviderConfig', location: `${trimBase(baseUrl)}/ServiceProviderConfig` },
  };
}

export function resourceTypes(baseUrl: string): Record<string, unknown>[] {
  const base = trimBase(baseUrl);
  return [
    {
      schemas: [RESOURCE_TYPE_SCHEMA],
      id: 'User',
      name: 'User',
      endpoint: '/Users',
      description: 'User Account',
      schema: USER_SCHEMA,
      schemaExtensions: [{ schema: ENTERPRISE_USER_SCHEMA, required: false }],
      meta: { resourceType: 'ResourceType', location: `${base}/ResourceTypes/User` },
    },
    {
      schemas: [RESOURCE_TYPE_SCHEMA],
      id: 'Group',
      name: 'Group',
      endpoint: '/Groups',
      description: 'Group',
      schema: GROUP_SCHEMA,
      meta: { resourceType: 'ResourceType', location: `${base}/ResourceTypes/Group` },
    },
  ];
}
