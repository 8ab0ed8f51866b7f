import SCIMMY from 'scimmy';
import { SCHEMA_SCHEMA } from './urns';

/**
 * The Schema resources served at /Schemas (RFC 7643 §7-8.7): SCIMMY's descriptions of User, Group,
 * EnterpriseUser, ServiceProviderConfig and ResourceType, plus the Schema schema itself, which SCIMMY does not
 * declare. Every schema that a served resource references is listed (Entra's gallery checks this).
 */

export type SchemaDocument = Record<string, unknown> & { id: string };

function attribute(name: string, type: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name,
    type,
    multiValued: false,
    description: '',
    required: false,
    caseExact: false,
    mutability: 'readOnly',
    returned: 'default',
    uniqueness: 'none',
    ...extra,
  };
}

const ATTRIBUTE_CHARACTERISTICS = [
  attribute('name', 'string', { required: true, caseExact: true }),
  attribute('type', 'string', {
    required: true,
    canonicalValues: ['string', 'complex', 'boolean', 'decimal', 'integer', 'dateTime', 'reference', 'binary'],
  }),
  attribute('multiValued', 'boolean', { required: true }),
  attribute('description', 'string'),
  attribute('required', 'boolean'),
  attribute('canonicalValues', 'string', { multiValued: true }),
  attribute('caseExact', 'boolean'),
  attribute('mutability', 'string', { canonicalValues: ['readOnly', 'readWrite', 'immutable', 'writeOnly'] }),
  attribute('returned', 'string', { canonicalValues: ['always', 'never', 'default', 'request'] }),
  attribute('uniqueness', 'string', { canonicalValues: ['none', 'server', 'global'] }),
  attribute('referenceTypes', 'string', { multiValued: true }),
];

/** RFC 7643 §7: the schema that describes schemas. */
const SCHEMA_OF_SCHEMAS: SchemaDocument = {
  schemas: [SCHEMA_SCHEMA],
  id: SCHEMA_SCHEMA,
  name: 'Schema',
  description: 'Specifies the schema attribute definitions of a resource',
  attributes: [
    attribute('id', 'string', { required: true, caseExact: true, uniqueness: 'global' }),
    attribute('name', 'string'),
    attribute('description', 'string'),
    attribute('attributes', 'complex', {
      multiValued: true,
      required: true,
      subAttributes: [
        ...ATTRIBUTE_CHARACTERISTICS,
        attribute('subAttributes', 'complex', { multiValued: true, subAttributes: ATTRIBUTE_CHARACTERISTICS }),
      ],
    }),
  ],
};

const DECLARED = [
  SCIMMY.Schemas.User,
  SCIMMY.Schemas.Group,
  SCIMMY.Schemas.EnterpriseUser,
  SCIMMY.Schemas.ServiceProviderConfig,
  SCIMMY.Schemas.ResourceType,
];

function withLocation(schema: SchemaDocument): SchemaDocument {
  return { ...schema, meta: { resourceType: 'Schema', location: `/Schemas/${schema.id}` } };
}

/** Built once: the documents never change while the process runs. Callers get their own copy. */
const ALL: SchemaDocument[] = [
  ...DECLARED.map((s) => JSON.parse(JSON.stringify(s.definition.describe())) as SchemaDocument),
  SCHEMA_OF_SCHEMAS,
].map(withLocation);

export function schemas(): SchemaDocument[] {
  return structuredClone(ALL);
}
