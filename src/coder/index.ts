export * from './client';
export * from './errors';
export * from './retry';
export * from './types';
export type { CallInfo } from './transport';
export type { GroupSummary } from './group-summary';
