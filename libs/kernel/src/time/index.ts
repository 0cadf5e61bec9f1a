export * from './civil';
export * from './instant';
export * from './zones';
