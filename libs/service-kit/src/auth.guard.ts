import { Inject, Injectable, SetMetadata, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { ApiProblem } from './problem';
import { ApiKeyStore, type ApiKeyEntry, type ApiRole } from './api-keys';

const ROLES = 'csms:roles';
const PUBLIC = 'csms:public';

/** Roles allowed on a controller or route (admin is always allowed). Routes without it still need a valid key. */
export const RequireRoles = (...roles: ApiRole[]) => SetMetadata(ROLES, roles);
/** Health, metrics and the API description: no credential needed. */
export const Public = () => SetMetadata(PUBLIC, true);

export interface AuthenticatedRequest extends Request {
  apiKey?: ApiKeyEntry;
}

/**
 * Every HTTP route needs `Authorization: Bearer <key>` (401 without a valid one) and, where it says so,
 * one of the roles (403 otherwise). Deny by default: only routes marked @Public() are open.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(ApiKeyStore) private readonly store: ApiKeyStore,
  ) {}

  canActivate(ctx: ExecutionContext): boolean {
    if (ctx.getType() !== 'http') return true;
    const targets = [ctx.getHandler(), ctx.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC, targets)) return true;
    const req = ctx.switchToHttp().getRequest<AuthenticatedRequest>();
    const header = req.headers.authorization ?? '';
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    if (!m)
      throw new ApiProblem(401, 'UNAUTHENTICATED', 'a bearer API key is required (Authorization: Bearer <key>)', {
        field: 'Authorization',
      });
    const entry = this.store.lookup(m[1]);
    if (!entry) throw new ApiProblem(401, 'UNAUTHENTICATED', 'unknown API key', { field: 'Authorization' });
    req.apiKey = entry;
    const roles = this.reflector.getAllAndOverride<ApiRole[] | undefined>(ROLES, targets);
    if (roles && entry.role !== 'admin' && !roles.includes(entry.role)) {
      throw new ApiProblem(
        403,
        'FORBIDDEN',
        `role ${entry.role} may not do this; allowed: ${['admin', ...roles].join(', ')}`,
      );
    }
    return true;
  }
}
