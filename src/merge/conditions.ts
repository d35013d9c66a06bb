import type { Condition } from '../model/condition.js';
import type { MergeContext } from '../model/record.js';

/** Whether an element's `when` holds for a record. */
export function conditionHolds(condition: Condition, context: MergeContext): boolean {
  const [scope, key] = condition.path.split('.') as [keyof MergeContext, string];
  const value = context[scope][key];
  const present = value !== undefined && value !== null && value !== '';
  if ('equals' in condition) return value === condition.equals;
  if ('in' in condition) return typeof value === 'string' && condition.in.includes(value);
  if ('exists' in condition) return present === condition.exists;
  return (present && value !== false) === condition.truthy;
}
