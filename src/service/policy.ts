import { ForbiddenError } from '../errors.js';
import type { ApiKey, Person, Role } from '../store/store.js';

/** Who a caller is: the faces pass it to every service, which decides with this policy. */
export { type ApiKey, type Person, type Role, ROLES } from '../store/store.js';

/**
 * The caller a person acts as: exactly a key of their role and rep id, so every rule here holds for
 * them as it does for keys. Its id (`person:<id>`) is never a key's, so what a caller leaves behind
 * (renders, jobs, uploads) stays theirs. Null while the person has no role yet, or is a rep without
 * a rep id: they wait until an admin gives them one.
 */
export function personCaller(person: Person): ApiKey | null {
  if (!person.role || (person.role === 'rep' && !person.repId)) return null;
  return {
    id: `person:${person.id}`,
    name: person.name,
    role: person.role,
    repId: person.repId,
    createdAt: person.createdAt,
    revokedAt: null,
    lastUsedAt: person.lastSignInAt,
  };
}

/**
 * Who may do what, decided once. An admin can do everything marketing can, plus keys, rep
 * profiles, webhooks, people's roles and the organisation's settings; marketing works with templates and with every
 * rep's work; a rep only ever acts as
 * themselves. The services consult this before they act, whichever face calls them; the faces derive
 * their route role lists (and the OpenAPI `x-roles`) from it, so they refuse early with the same
 * answer, and never restate it.
 */
export const POLICY = {
  /** Read published templates, their samples and the record they take. */
  'templates.read': { roles: ['rep', 'marketing', 'admin'], what: 'read templates' },
  /** Upload, publish and retire template versions; see drafts, retired versions and their history. */
  'templates.manage': { roles: ['marketing', 'admin'], what: 'manage templates' },
  /** Preview a piece and check how it fits; upload images for a piece's image inputs. */
  'pieces.preview': { roles: ['rep', 'marketing', 'admin'], what: 'preview pieces' },
  /** Make a piece: printed with the caller's own rep profile, and kept in the audit trail. */
  'pieces.render': { roles: ['rep'], what: 'make pieces' },
  /** Read the audit trail and download the pieces in it. */
  'renders.read': { roles: ['rep', 'marketing', 'admin'], what: 'read renders' },
  /** See pieces and the responses traced to them: a rep their own, those who work with any rep everyone's. */
  'pieces.read': { roles: ['rep', 'marketing', 'admin'], what: 'read pieces' },
  /** Report what came of a piece (contacted, meeting booked, won, …). */
  'pieces.outcome': { roles: ['rep', 'marketing', 'admin'], what: 'report outcomes' },
  /** See what worked: every template's response rates, outcomes and field use, and the responses export. */
  'results.read': { roles: ['marketing', 'admin'], what: 'read results' },
  /** Run batch jobs and follow them. */
  'jobs.run': { roles: ['rep', 'marketing', 'admin'], what: 'run batch jobs' },
  /**
   * Work with any rep: see every rep's renders, pieces and jobs, run a job with any rep's profile
   * (or a rep column), preview with rep details typed by hand. Without it, a caller sees and acts
   * for their own rep profile only.
   */
  'reps.any': { roles: ['marketing', 'admin'], what: 'work with any rep' },
  /** Read and update one's own rep profile. */
  'profile.own': { roles: ['rep'], what: 'keep a rep profile' },
  /** Read and update any rep's profile. */
  'reps.manage': { roles: ['admin'], what: 'manage rep profiles' },
  /** Erase everything kept about one recipient (a data subject's request). */
  'recipients.erase': { roles: ['admin'], what: 'erase recipients' },
  /** Create, list and revoke API keys. */
  'keys.manage': { roles: ['admin'], what: 'manage keys' },
  /** Create, list and delete the organisation's webhooks, and read their delivery log. */
  'webhooks.manage': { roles: ['admin'], what: 'manage webhooks' },
  /** Read and change the organisation's settings (the approval rule, how long recipients are kept). */
  'settings.manage': { roles: ['admin'], what: 'manage the organisation’s settings' },
  /** See the people who sign in, give them their role and rep id, and disable them. */
  'people.manage': { roles: ['admin'], what: 'manage people' },
} as const satisfies Record<string, { roles: readonly Role[]; what: string }>;

export type Action = keyof typeof POLICY;

/** The roles allowed an action. */
export const rolesFor = (action: Action): readonly Role[] => POLICY[action].roles;

export const can = (role: Role, action: Action): boolean => rolesFor(action).includes(role);

/** Refuses (ForbiddenError, a 403 on every face) a caller whose role is not allowed the action. */
export function authorize(caller: ApiKey, action: Action): void {
  if (can(caller.role, action)) return;
  const roles = rolesFor(action);
  throw new ForbiddenError(
    `Only ${roles.join(' and ')} keys may ${POLICY[action].what}; this is a ${caller.role} key.`,
  );
}

/**
 * The rep whose work a caller sees: their own for a rep, `null` (every rep's) for a caller that may
 * work with any rep. Lists filter by it; single things go through `sees`.
 */
export function repScope(caller: ApiKey): string | null {
  return can(caller.role, 'reps.any') ? null : caller.repId;
}

/** Whether a caller may see a thing made for a rep (a render, a job). */
export function sees(caller: ApiKey, thing: { repId: string | null }): boolean {
  const scope = repScope(caller);
  return scope === null || thing.repId === scope;
}

/**
 * Who a thing a caller makes for themselves belongs to (an uploaded image): a rep, whichever of
 * their keys they use; anyone else, their key. Such things are their owner's alone, whatever the role.
 */
export function ownerOf(caller: ApiKey): string {
  return caller.repId ? `rep:${caller.repId}` : `key:${caller.id}`;
}
