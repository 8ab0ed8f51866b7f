import { badRequest } from './errors';
import { MAX_PATCH_OPERATIONS } from './limits';
import { isPlainObject } from '../model/resource';

/** A PatchOp request body (RFC 7644 §3.5.2) read leniently: `op` in any case (Entra sends `Replace`). */

export type PatchOpName = 'add' | 'replace' | 'remove';

export interface PatchOperation {
  op: PatchOpName;
  path?: string;
  value?: unknown;
}

const OP_NAMES = new Set<string>(['add', 'replace', 'remove']);

function field(object: Record<string, unknown>, name: string): unknown {
  if (name in object) return object[name];
  const key = Object.keys(object).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : object[key];
}

export function readOperations(body: unknown): PatchOperation[] {
  if (!isPlainObject(body)) throw badRequest('invalidSyntax', 'a PATCH body must be a PatchOp JSON object');
  const operations = field(body, 'Operations');
  if (!Array.isArray(operations)) throw badRequest('invalidSyntax', 'a PATCH body must have an "Operations" array');
  if (operations.length > MAX_PATCH_OPERATIONS) {
    throw badRequest('invalidValue', `a PATCH has ${operations.length} Operations; at most ${MAX_PATCH_OPERATIONS} are accepted (send several requests)`);
  }
  return operations.map((raw, i) => {
    if (!isPlainObject(raw)) throw badRequest('invalidSyntax', `Operations[${i}] must be an object`);
    const op = field(raw, 'op');
    if (typeof op !== 'string' || !OP_NAMES.has(op.toLowerCase())) {
      throw badRequest('invalidSyntax', `Operations[${i}].op must be "add", "replace" or "remove"`);
    }
    const path = field(raw, 'path');
    if (path !== undefined && path !== null && (typeof path !== 'string' || path.trim() === '')) {
      throw badRequest('invalidPath', `Operations[${i}].path must be a non-empty string`);
    }
    const operation: PatchOperation = { op: op.toLowerCase() as PatchOpName, value: field(raw, 'value') };
    if (typeof path === 'string') operation.path = path.trim();
    return operation;
  });
}
