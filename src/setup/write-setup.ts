import { createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import dotenv from 'dotenv';
import { UserError } from '../errors.ts';

/** A signing secret for RECAP_SECRET: 32 random bytes, 43 characters. */
export function newSigningSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** A token for EDITOR_TOKEN: 24 random bytes, 32 characters. */
export function newEditorToken(): string {
  return randomBytes(24).toString('base64url');
}

/** A fresh RSA-2048 DKIM key pair: the private key as PKCS#8 PEM, the public key as DKIM's `p=` (base64 DER). */
export function newDkimKeyPair(): { privateKeyPem: string; publicKeyBase64: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyBase64: publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
  };
}

/** The DKIM `p=` value of a private key file (PEM): what its DNS record must hold. Throws when unreadable. */
export function dkimPublicKeyOf(privateKeyFile: string): string {
  const publicKey = createPublicKey(readFileSync(privateKeyFile, 'utf8'));
  return publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
}

/**
 * Refuses (one UserError line) when a file `recap init` would write already exists and `force` is off:
 * nothing is written then, so a second run never replaces a secret or a published key by accident.
 */
export function refuseToOverwrite(files: string[], force: boolean): void {
  if (force) return;
  const existing = files.find((file) => existsSync(file));
  if (existing)
    throw new UserError(
      `${existing} exists: nothing written (--force replaces it; a new DKIM key needs its new DNS record)`,
    );
}

/** RECAP_SECRET and RECAP_PREVIOUS_SECRETS of an existing `.env`, kept so links already mailed keep working. */
export function secretsOf(envFile: string): string[] {
  if (!existsSync(envFile)) return [];
  const values = dotenv.parse(readFileSync(envFile));
  return [values.RECAP_SECRET, ...(values.RECAP_PREVIOUS_SECRETS ?? '').split(',')]
    .map((secret) => secret?.trim() ?? '')
    .filter(Boolean);
}

/**
 * Writes `text` to `file` readable by its owner only (0600), whole or not at all: a temporary file in
 * the same folder renamed into place. Without `replace`, an existing file is never touched (the
 * temporary file is created exclusively and the final check happens right before the rename).
 */
export function writePrivateFile(file: string, text: string, replace: boolean): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(temporary, text, { mode: 0o600, flag: 'wx' });
  chmodSync(temporary, 0o600);
  if (!replace && existsSync(file)) {
    unlinkSync(temporary);
    throw new UserError(`${file} exists: nothing written (--force replaces it)`);
  }
  renameSync(temporary, file);
}
