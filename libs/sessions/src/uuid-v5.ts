// moved to the kernel (contracts' deriveId uses it too)
export { fastUuidV5, uuidNamespace } from '@csms/kernel';
