import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { ApiRole } from './api-keys';
import type { AuthenticatedRequest } from './auth.guard';
import { ApiProblem } from './problem';

/**
 * Who made a write: the API key's configured name and its role. Never the key itself or its hash.
 * Recorded with every write (tables, API views and the events that are the record of the write).
 */
export interface ActorRef {
  keyName: string;
  role: ApiRole;
}

/** The actor of an authenticated request (the guard has put its key's entry on the request). */
export function actorOf(req: AuthenticatedRequest): ActorRef {
  const key = req.apiKey;
  // the guard denies by default: a write route without a key is a wiring error, never a silent "unknown"
  if (!key)
    throw new ApiProblem(401, 'UNAUTHENTICATED', 'a bearer API key is required (Authorization: Bearer <key>)', {
      field: 'Authorization',
    });
  return { keyName: key.name, role: key.role };
}

/** `api-key:<name>`: the actor as one string, where an existing record holds "who" as text. */
export function actorLabel(actor: ActorRef): string {
  return `api-key:${actor.keyName}`;
}

/** Route parameter: the {@link ActorRef} of the request's API key, e.g. `put(@Actor() by: ActorRef)`. */
export const Actor = createParamDecorator((_data: unknown, ctx: ExecutionContext): ActorRef =>
  actorOf(ctx.switchToHttp().getRequest<AuthenticatedRequest>()),
);
