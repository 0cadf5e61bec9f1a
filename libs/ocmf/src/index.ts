// OCMF signed meter values: lossless parsing, ECDSA verification with node:crypto, session pairing checks.
// See libs/ocmf/README.md.
export * from './curves';
export * from './json';
export * from './keys';
export * from './record';
export * from './verify';
export * from './session';
export * from './sign';
