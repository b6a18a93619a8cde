/**
 * Signing jobs as plain messages, so the costly part of DKIM signing (body hash,
 * canonicalization and above all the RSA private-key operation, ~0.5 ms per message) can
 * run on another thread while the accepting thread goes on reading sockets and committing.
 *
 * This is the runtime-neutral half: the message shapes, and the handler a signing thread
 * runs. Starting threads is a runtime matter (src/runtime/dkim-pool.ts for Bun); a runtime
 * without threads (Workers) signs inline through the same signer.
 */
import { importSigningKey, type DkimAlgorithm } from "./keys.ts";
import { dkimSignatures } from "./sign.ts";
import { errorFields, type ErrorFields } from "../core/log.ts";

/** A key as the signer hands it to a pool: the opened PKCS#8 PEM, kept in memory only. */
export interface PoolKey {
  id: string;
  domain: string;
  selector: string;
  algorithm: DkimAlgorithm;
  pem: string;
}

/** What the accepting thread asks of a pool: the DKIM-Signature fields for these bytes. */
export interface SignaturePool {
  /** The fields (each ending in CRLF) to put before the message; rejects when the signing thread failed. */
  signatures(raw: Uint8Array, keys: PoolKey[], signTime: Date): Promise<string>;
  close(): Promise<void>;
}

export type JobRequest =
  /** Sent once per key and thread, before the first job that uses it. */
  | { kind: "key"; id: string; algorithm: DkimAlgorithm; pem: string }
  | { kind: "sign"; job: number; raw: Uint8Array; keys: { id: string; domain: string; selector: string }[]; time: number };

export type JobReply = { job: number; header: string } | { job: number; error: ErrorFields };

/** The handler one signing thread runs: keys imported once, each job answered with its fields or its error. */
export function createJobHandler(): (req: JobRequest) => Promise<JobReply | null> {
  const keys = new Map<string, { algorithm: DkimAlgorithm; key: Promise<CryptoKey> }>();
  return async (req) => {
    if (req.kind === "key") {
      const key = importSigningKey(req.algorithm, req.pem);
      // An import failure is reported by the first job that uses the key.
      key.catch(() => {});
      keys.set(req.id, { algorithm: req.algorithm, key });
      return null;
    }
    try {
      const signing = await Promise.all(
        req.keys.map(async (k) => {
          const held = keys.get(k.id);
          if (!held) throw new Error(`key ${k.id} not sent to this signing thread`);
          return { domain: k.domain, selector: k.selector, algorithm: held.algorithm, key: await held.key };
        }),
      );
      return { job: req.job, header: await dkimSignatures(req.raw, signing, new Date(req.time)) };
    } catch (err) {
      return { job: req.job, error: errorFields(err) };
    }
  };
}
