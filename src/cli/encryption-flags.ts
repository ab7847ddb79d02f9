/**
 * Client-side encryption settings as command-line flags, taken by every command: each stands for
 * the environment variable of the same meaning (open-store.ts reads those). Keys themselves are
 * never flags, where other users of the machine could read them: a passphrase comes from a file.
 */
import * as fs from "node:fs";
import { UsageError } from "./io";

const FLAGS: Record<string, { variable: string; takes: "file" | "value" | "none" }> = {
  "--passphrase-file": { variable: "KSTATE_PASSPHRASE", takes: "file" },
  "--fallback-passphrase-file": { variable: "KSTATE_FALLBACK_PASSPHRASE", takes: "file" },
  "--kms-key-id": { variable: "KSTATE_AWS_KMS_KEY_ID", takes: "value" },
  "--fallback-kms-key-id": { variable: "KSTATE_FALLBACK_AWS_KMS_KEY_ID", takes: "value" },
  "--encrypt-patterns": { variable: "KSTATE_ENCRYPT_PATTERNS", takes: "value" },
  "--encrypt-enforce": { variable: "KSTATE_ENCRYPT_ENFORCE", takes: "none" },
  "--encrypt-breaks-kops": { variable: "KSTATE_ENCRYPT_BREAKS_KOPS", takes: "none" },
};

export const ENCRYPTION_FLAGS_HELP = `Client-side encryption, for any command (or the environment variables in brackets):
  --passphrase-file FILE           the current key, read from FILE (KSTATE_PASSPHRASE)
  --kms-key-id ID                  the current key, an AWS KMS key id, ARN or alias (KSTATE_AWS_KMS_KEY_ID)
  --fallback-passphrase-file FILE  the old key during a rotation (KSTATE_FALLBACK_PASSPHRASE)
  --fallback-kms-key-id ID         the old key during a rotation (KSTATE_FALLBACK_AWS_KMS_KEY_ID)
  --encrypt-patterns LIST          files to encrypt, comma-separated (KSTATE_ENCRYPT_PATTERNS)
  --encrypt-enforce                refuse plaintext where the patterns want ciphertext (KSTATE_ENCRYPT_ENFORCE)
  --encrypt-breaks-kops            seal files kops or its nodes read on clusters kops manages, which
                                   breaks kops's own reads of them (KSTATE_ENCRYPT_BREAKS_KOPS)
A store can record its policy (kstate encryption set); every writer then needs its key.
`;

/** `argv` without the encryption flags, and `env` with what they set (flags win over variables). */
export function takeEncryptionFlags(argv: string[], env: Record<string, string | undefined>): { argv: string[]; env: Record<string, string | undefined> } {
  const rest: string[] = [];
  const set: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      rest.push(...argv.slice(i));
      break;
    }
    const eq = arg.indexOf("=");
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const flag = FLAGS[name];
    if (!flag) {
      rest.push(arg);
      continue;
    }
    if (flag.takes === "none") {
      if (eq > 0) throw new UsageError(`${name} takes no value`);
      set[flag.variable] = "1";
      continue;
    }
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined || value === "") throw new UsageError(`${name} needs a ${flag.takes === "file" ? "FILE" : "value"}`);
    if (flag.takes === "file") {
      try {
        set[flag.variable] = fs.readFileSync(value, "utf8").replace(/\r?\n$/, "");
      } catch (e) {
        throw new UsageError(`${name}: cannot read ${value} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
      }
    } else {
      set[flag.variable] = value;
    }
  }
  return Object.keys(set).length === 0 ? { argv, env } : { argv: rest, env: { ...env, ...set } };
}

/**
 * The warning for files a command left sealed by client-side encryption that kops itself opens
 * (create secret, create keypair, rekey): kops cannot read them. `effect` says what then fails.
 */
export function sealedFromKopsWarning(files: readonly string[], effect: string): string {
  const named = files.length > 4 ? `${files.slice(0, 3).join(", ")} and ${files.length - 3} more` : files.join(", ");
  const one = files.length === 1;
  return `warning: ${named} ${one ? "is" : "are"} sealed by client-side encryption; kops cannot open ${one ? "it" : "them"} (${effect}). Write ${one ? "it" : "them"} with patterns that leave ${one ? "it" : "them"} out (KSTATE_ENCRYPT_PATTERNS), or keep client-side encryption to clusters kops does not run.\n`;
}
