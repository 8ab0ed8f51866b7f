export * from './client';
export * from './errors';
export * from './retry';
export * from './types';
export type { CallInfo } from './transport';
