/** Configurations the service refuses, and what it says about them. */
import { expect } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { PlatenError } from '../../src/errors.js';

/** The `path: message` of each problem an environment's configuration is refused with; fails if accepted. */
export function configProblems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(PlatenError);
    return (error as PlatenError).problems.map((p) => `${p.path}: ${p.message}`);
  }
  throw new Error('the configuration was accepted');
}
