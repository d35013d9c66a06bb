/**
 * Work done for someone who may leave (a request whose client disconnected or timed out) stops at
 * the next step once its signal aborts, instead of finishing for nobody.
 */

/**
 * Between two steps of such work: gives the event loop a turn, so that a departure that has happened
 * is noticed (a closed socket is an I/O event, which synchronous steps and promise callbacks never let
 * in), then throws the signal's reason if the work is no longer wanted. Without a signal, nothing.
 */
export async function stillWanted(signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return;
  await new Promise((resolve) => setImmediate(resolve));
  signal.throwIfAborted();
}
