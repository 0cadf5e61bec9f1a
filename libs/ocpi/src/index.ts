export * from './errors';
export * from './tokens';
export * from './credentials';
export * from './registration';
export * from './versions';
export * from './party-address';
