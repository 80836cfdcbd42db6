/**
 * The participants Kassa deals with, as its operator registers them (`kassa opencharge
 * participants …`). Keys and endpoints come only from here, never from a request. A participant
 * is also a subaccount of the Opencharge account, named as it, so the hosted page shows its name.
 */
import { conflict, invalidParameters, notFound, type FieldErrors } from "../../core/errors.js";
import { newId } from "../../core/ids.js";
import type { Services } from "../../core/services.js";
import { isValidOcid } from "./headers.js";
import { OpenchargeKeyError, parsePublicKey } from "./keys.js";
import type { OpenchargeRuntime } from "./opencharge.js";
import { PARTICIPANT_ROLES, type Participant, type ParticipantRole } from "./opencharge.repository.js";
import { verifyConfig } from "./signing.js";

export interface NewParticipant {
  ocid: string;
  name: string;
  publicKey: string;
  endpoint: string;
  role?: string;
}

const MAX_NAME = 200;

type ParticipantServices = Pick<Services, "transaction" | "receiverUrlProblem" | "clock" | "repos">;

/** The participant as given, checked: an OCID, a name, a key on the curve (kept as 128 hex), an endpoint Kassa may call. */
function checked(services: ParticipantServices, input: NewParticipant) {
  const fields: FieldErrors = {};
  if (!isValidOcid(input.ocid)) fields.ocid = ["must be an OCID (a decimal integer without leading zeros)"];
  const name = input.name.trim();
  if (!name || name.length > MAX_NAME) fields.name = [`must be 1 to ${MAX_NAME} characters`];
  let publicKey = "";
  try {
    publicKey = parsePublicKey(input.publicKey).hex;
  } catch (error) {
    fields.public_key = [error instanceof OpenchargeKeyError ? error.message : "is not a public key"];
  }
  const endpoint = input.endpoint.trim().replace(/\/+$/, "");
  const problem = services.receiverUrlProblem(endpoint);
  if (problem) fields.endpoint = [problem];
  else if (new URL(endpoint).search || new URL(endpoint).hash) fields.endpoint = ["must not have a query or fragment"];
  const role = (input.role ?? "merchant") as ParticipantRole;
  if (!PARTICIPANT_ROLES.includes(role)) fields.role = [`must be one of ${PARTICIPANT_ROLES.join(", ")}`];
  if (Object.keys(fields).length) throw invalidParameters(fields);
  return { ocid: input.ocid, name, publicKey, endpoint, role };
}

export const participantView = (p: Participant) => ({
  ocid: p.ocid,
  name: p.name,
  public_key: p.publicKey,
  endpoint: p.endpoint,
  role: p.role,
  subaccount_id: p.subaccountId,
  created_on: p.createdAt.toISOString(),
});

export function participantOperations(services: ParticipantServices, opencharge: OpenchargeRuntime) {
  const { repository } = opencharge;
  return {
    /** Registers a participant and its subaccount in one transaction; an OCID registered already is a conflict. */
    async add(input: NewParticipant): Promise<Participant> {
      const fields = checked(services, input);
      const { accountId } = await opencharge.identity();
      return services.transaction(async (tx) => {
        const subaccount = await services.repos.subaccounts.create(
          {
            id: newId.subaccount(),
            accountId,
            name: fields.name,
            email: null,
            defaultPortfolioId: null,
          },
          tx,
        );
        const participant = await repository.insertParticipant(
          { ...fields, subaccountId: subaccount.id, createdAt: services.clock() },
          tx,
        );
        if (!participant) throw conflict(`Participant ${fields.ocid} is registered already; remove it first`);
        return participant;
      });
    },
    list: () => repository.listParticipants(),
    /** Forgets the participant (its requests are refused from now on); its subaccount and sessions stay. */
    async remove(ocid: string): Promise<Participant> {
      const removed = await repository.deleteParticipant(ocid);
      if (!removed) throw notFound("opencharge_participant", ocid);
      return removed;
    },
    /**
     * Registers a participant from its metadata.json document (the text of the file): its name,
     * `config.publicKey` and `config.endpoint`. The document's `signature` over its config must
     * verify with that key (a document cut and pasted wrongly is refused). The OCID is the
     * operator's to give: the document does not carry it (the registry maps OCIDs to documents).
     */
    async importMetadata(input: { ocid: string; metadata: string; role?: string }): Promise<Participant> {
      let document: unknown;
      try {
        document = JSON.parse(input.metadata);
      } catch {
        throw invalidParameters({ metadata: ["is not JSON"] });
      }
      const doc = document as { name?: unknown; config?: Record<string, unknown>; signature?: unknown } | null;
      const config = doc?.config;
      if (
        !doc ||
        typeof doc.name !== "string" ||
        !config ||
        typeof config !== "object" ||
        typeof config.publicKey !== "string" ||
        typeof config.endpoint !== "string"
      ) {
        throw invalidParameters({ metadata: ["must have name, config.publicKey and config.endpoint"] });
      }
      // Either canonical form: this is a check that the document is whole, not a protocol verification.
      const forms = ["deep", "shallow"] as const;
      if (typeof doc.signature !== "string" || !verifyConfig(config, doc.signature, config.publicKey, { forms }).ok) {
        throw invalidParameters({ metadata: ["its signature does not verify over its config with config.publicKey"] });
      }
      return this.add({
        ocid: input.ocid,
        name: doc.name,
        publicKey: config.publicKey,
        endpoint: config.endpoint,
        role: input.role,
      });
    },
  };
}
