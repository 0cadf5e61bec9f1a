export * from './revenue';
export * from './periods';
export * from './nevi';
export * from './timeline';
export * from './columns';
export * from './reconcile';
export * from './break-lifecycle';
export * from './reconcile-scope';
