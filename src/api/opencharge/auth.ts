/**
 * A signed Opencharge request, checked in the order that costs an attacker most and Kassa least:
 * the headers' form, the timestamp window, the caller's OCID in the participants table, the
 * signature over the raw body and the path as sent (prefix and query included), and only then the
 * nonce (so nobody can use up a participant's nonces without its key). The nonce is recorded in
 * PostgreSQL until the request's timestamp leaves the window: a replay is refused by every instance.
 */
import type { FastifyRequest } from "fastify";
import { checkTimestamp, nonceKeptUntil, readRequestAuthHeaders } from "./headers.js";
import { ocError } from "./opencharge.errors.js";
import type { OpenchargeRepository, Participant } from "./opencharge.repository.js";
import { verifyRequestSignature } from "./signing.js";

export function createRequestAuth(deps: { repository: OpenchargeRepository; clock: () => Date }) {
  const { repository, clock } = deps;
  /** The calling participant of a signed request, or an OpenchargeError (401) saying why not. */
  return async function authenticate(request: FastifyRequest, rawBody: Buffer | null): Promise<Participant> {
    const read = readRequestAuthHeaders(request.headers);
    if (!read.ok) {
      const what = read.reason === "missing_header" ? "Missing" : "Malformed";
      throw ocError("INVALID_SIGNATURE", `${what} ${read.header} header`, { header: read.header });
    }
    const auth = read.value;
    const now = clock();
    const fresh = checkTimestamp(auth.timestamp, now);
    if (!fresh.ok) {
      throw ocError("TIMESTAMP_EXPIRED", "X-OC-Timestamp is outside ±300 seconds of the server's clock", {
        server_time: Math.floor(now.getTime() / 1000),
      });
    }
    const caller = await repository.findParticipant(auth.ocid);
    if (!caller) throw ocError("UNKNOWN_OCID", `OCID ${auth.ocid} is not a known participant`);
    const check = verifyRequestSignature(
      {
        ocid: auth.ocid,
        timestamp: auth.timestamp,
        nonce: auth.nonce,
        method: request.method,
        // The path exactly as sent: the mount prefix and the query string are signed too.
        path: request.raw.url ?? request.url,
        body: rawBody ?? "",
      },
      auth.signature,
      caller.publicKey,
    );
    if (!check.ok) {
      throw ocError(
        "INVALID_SIGNATURE",
        check.reason === "malformed_signature"
          ? "X-OC-Signature is not a signature in any accepted encoding"
          : "X-OC-Signature does not verify with the caller's key",
      );
    }
    if (!(await repository.claimNonce(auth.ocid, auth.nonce, nonceKeptUntil(fresh.seconds), now))) {
      throw ocError("NONCE_REUSED", "This X-OC-Nonce was used already");
    }
    return caller;
  };
}

export type RequestAuth = ReturnType<typeof createRequestAuth>;
