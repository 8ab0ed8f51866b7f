import SCIMMY from 'scimmy';
import { MAX_MULTI_VALUED_ENTRIES, MAX_NAME_LENGTH, MAX_STRING_LENGTH } from './limits';
import { MAX_EMAIL_LENGTH } from '../model/email';
import { ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, USER_SCHEMA } from './urns';

/**
 * The attribute definitions of the resources this bridge serves, taken from SCIMMY's schema declarations
 * (RFC 7643 §4, §8.7.1) rather than written again, and indexed for case-insensitive lookup: IdPs send
 * `DisplayName`, `name.FamilyName` and `Primary`.
 */

export type AttributeType = 'string' | 'boolean' | 'decimal' | 'integer' | 'dateTime' | 'binary' | 'reference' | 'complex';

export interface AttributeDef {
  name: string;
  type: AttributeType;
  multiValued: boolean;
  caseExact: boolean;
  required: boolean;
  mutability: 'readOnly' | 'readWrite' | 'immutable' | 'writeOnly';
  returned: 'always' | 'never' | 'default' | 'request';
  subAttributes?: AttributeDef[];
  /** Lower-cased sub-attribute name -> definition. */
  subIndex?: Map<string, AttributeDef>;
  /** Longest string value accepted (string, reference and binary attributes). */
  maxLength?: number;
  /** Most entries accepted in a multi-valued attribute (unset: only the body's array limit applies). */
  maxEntries?: number;
}

export interface SchemaModel {
  id: string;
  idLower: string;
  attributes: AttributeDef[];
  index: Map<string, AttributeDef>;
}

export type ResourceName = 'User' | 'Group';

export interface ResourceModel {
  name: ResourceName;
  core: SchemaModel;
  extensions: SchemaModel[];
}

interface RawAttribute {
  name: string;
  type: AttributeType;
  multiValued?: boolean;
  caseExact?: boolean;
  required?: boolean;
  mutability?: AttributeDef['mutability'];
  returned?: AttributeDef['returned'];
  subAttributes?: RawAttribute[];
}

function toDef(raw: RawAttribute): AttributeDef {
  const def: AttributeDef = {
    name: raw.name,
    type: raw.type,
    multiValued: raw.multiValued ?? false,
    caseExact: raw.caseExact ?? false,
    required: raw.required ?? false,
    mutability: raw.mutability ?? 'readWrite',
    returned: raw.returned ?? 'default',
  };
  if (raw.subAttributes) {
    def.subAttributes = raw.subAttributes.map(toDef);
    def.subIndex = indexByLowerName(def.subAttributes);
  }
  return def;
}

function indexByLowerName(defs: AttributeDef[]): Map<string, AttributeDef> {
  return new Map(defs.map((d) => [d.name.toLowerCase(), d]));
}

/**
 * SCIMMY's Attribute instances serialise to their RFC 7643 description. SCIMMY declares the common attributes
 * (`schemas`, `id`, `externalId`, `meta`) on extensions too: `omit` drops them there.
 */
function modelOf(definition: { id: string; attributes: unknown[] }, omit: string[] = []): SchemaModel {
  const raw = JSON.parse(JSON.stringify(definition.attributes)) as RawAttribute[];
  const attributes = raw.filter((a) => !omit.includes(a.name)).map(toDef);
  return { id: definition.id, idLower: definition.id.toLowerCase(), attributes, index: indexByLowerName(attributes) };
}

const STRING_TYPES = new Set<AttributeType>(['string', 'reference', 'binary']);

/**
 * Writes the size limits onto the definitions, so that normalisation (POST, PUT and every PATCH value) checks
 * them where it reads each value. `names` maps `attr` or `attr.sub` to its own limit; `maxEntries` applies to
 * every multi-valued attribute of the schema.
 */
function limit(schema: SchemaModel, names: Record<string, number>, maxEntries?: number): SchemaModel {
  const visit = (def: AttributeDef, path: string): void => {
    if (STRING_TYPES.has(def.type)) def.maxLength = names[path] ?? MAX_STRING_LENGTH;
    if (def.multiValued && maxEntries !== undefined) def.maxEntries = maxEntries;
    for (const sub of def.subAttributes ?? []) visit(sub, `${path}.${sub.name}`);
  };
  for (const def of schema.attributes) visit(def, def.name);
  return schema;
}

const userNames = { userName: MAX_NAME_LENGTH, displayName: MAX_NAME_LENGTH, 'emails.value': MAX_EMAIL_LENGTH };
const userCore = limit(modelOf(SCIMMY.Schemas.User.definition), userNames, MAX_MULTI_VALUED_ENTRIES);
const enterpriseUser = limit(modelOf(SCIMMY.Schemas.EnterpriseUser.definition, ['schemas', 'id', 'externalId', 'meta']), {}, MAX_MULTI_VALUED_ENTRIES);
// A group's members are bounded by the body's array limit (src/http/json-limits.ts), not by maxEntries.
const groupCore = limit(modelOf(SCIMMY.Schemas.Group.definition), { displayName: MAX_NAME_LENGTH });

export const USER_MODEL: ResourceModel = { name: 'User', core: userCore, extensions: [enterpriseUser] };
export const GROUP_MODEL: ResourceModel = { name: 'Group', core: groupCore, extensions: [] };

export function modelFor(resource: ResourceName): ResourceModel {
  return resource === 'User' ? USER_MODEL : GROUP_MODEL;
}

if (userCore.id !== USER_SCHEMA || groupCore.id !== GROUP_SCHEMA || enterpriseUser.id !== ENTERPRISE_USER_SCHEMA) {
  throw new Error('SCIMMY schema ids differ from the RFC 7643 URNs this bridge serves');
}

/** A schema of the resource named by a URN (any case). */
export function schemaByUrn(model: ResourceModel, urn: string): SchemaModel | undefined {
  const lower = urn.toLowerCase();
  if (lower === model.core.idLower) return model.core;
  return model.extensions.find((s) => s.idLower === lower);
}

export interface ResolvedPath {
  schema: SchemaModel;
  attribute: AttributeDef;
  sub?: AttributeDef;
}

/**
 * `attr`, `attr.sub`, `urn:…:attr` or `urn:…:attr.sub` -> the definitions it names, or undefined when the
 * resource has no such attribute. `undefined` for a sub-attribute name that the attribute does not have.
 */
export function resolvePath(model: ResourceModel, text: string): ResolvedPath | undefined {
  let schema = model.core;
  let rest = text;
  if (text.length > 4 && text.slice(0, 4).toLowerCase() === 'urn:') {
    const lower = text.toLowerCase();
    const owner = [model.core, ...model.extensions].find((s) => lower.startsWith(s.idLower + ':'));
    if (!owner) return undefined;
    schema = owner;
    rest = text.slice(owner.id.length + 1);
  }
  const dot = rest.indexOf('.');
  const attrName = dot < 0 ? rest : rest.slice(0, dot);
  const attribute = schema.index.get(attrName.toLowerCase());
  if (!attribute) return undefined;
  if (dot < 0) return { schema, attribute };
  const sub = attribute.subIndex?.get(rest.slice(dot + 1).toLowerCase());
  return sub ? { schema, attribute, sub } : undefined;
}
