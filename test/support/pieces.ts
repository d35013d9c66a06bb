/** Pieces as the store keeps them, for tests that look beneath the services. */
import { PieceCodes } from '../../src/model/piece-code.js';
import type { StoredPiece } from '../../src/store/store.js';
import type { TestServer } from './server.js';

/** The installation's piece codes, under the key its store keeps. */
export async function pieceCodes(server: TestServer): Promise<PieceCodes> {
  return new PieceCodes(await server.running.platen.store.pieces.codeKey());
}

/** The stored piece a code names, or null. */
export async function storedPiece(server: TestServer, code: string): Promise<StoredPiece | null> {
  const number = (await pieceCodes(server)).number(code);
  return number === null ? null : server.running.platen.store.pieces.get(number);
}
