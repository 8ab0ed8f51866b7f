import type { ResourceKind, ScimDocument, StoredResource } from '../model/resource';

/** The hash fields of a resource record, in the order `decodeRecord` expects them from HMGET. */
export const RECORD_FIELDS = ['version', 'created', 'lastModified', 'doc', 'fields'] as const;

/** A stored resource plus the index fields it was written with (what an update or delete must release). */
export interface StoredRecord<Fields> {
  resource: StoredResource;
  fields: Fields;
}

export function decodeRecord<Fields>(kind: ResourceKind, id: string, values: (string | null)[]): StoredRecord<Fields> | null {
  const [version, created, lastModified, doc, fields] = values;
  if (version === null || created === null || lastModified === null || doc === null || fields === null) return null;
  return {
    resource: {
      kind,
      id,
      version: Number(version),
      created: Number(created),
      lastModified: Number(lastModified),
      doc: JSON.parse(doc) as ScimDocument,
    },
    fields: JSON.parse(fields) as Fields,
  };
}
