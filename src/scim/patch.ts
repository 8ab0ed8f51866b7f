/** PATCH (RFC 7644 §3.5.2) for both resources: see user-patch.ts and group-patch.ts. */
export { applyUserPatch } from './user-patch';
export { planGroupPatch, type GroupPatchPlan } from './group-patch';
export { readOperations, type PatchOperation } from './patch-ops';
