/** `kstate rekey NAME`: every encrypted file of a cluster re-encrypted under the current key. */
import { parseArgs } from "node:util";
import { rekeyCluster } from "../../ops/rekey";
import { colours, EXIT, type Io, UsageError } from "../io";
import { sealedFromKopsWarning } from "../encryption-flags";
import { clusterName } from "../cluster-name";
import { encryptionFromEnv, openClusterStore } from "../open-store";
import { sealedFromKops } from "../../store/secrets";

export const REKEY_HELP = `Usage: kstate rekey [NAME] [--state URL]

Re-encrypts the client-side-encrypted files of cluster NAME under the current key (KSTATE_PASSPHRASE
or KSTATE_AWS_KMS_KEY_ID), reading with it or with the old key (KSTATE_FALLBACK_PASSPHRASE or
KSTATE_FALLBACK_AWS_KMS_KEY_ID). Files the patterns name
(KSTATE_ENCRYPT_PATTERNS, default secrets/** and pki/private/**) that are still plaintext are
encrypted; files already under the current key are left alone, so an interrupted rekey can simply
be run again. Each write is conditional on the revision read. Afterwards the old key can go.

Exit codes: 0 done, 1 failure (no such cluster, or a file no configured key opens, named), 2 usage error,
3 a file changed while it was being rekeyed (run again), 4 nothing to do.
`;

export async function rekey(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { state: { type: "string" }, name: { type: "string" } } });
  const name = clusterName("rekey", positionals, values.name, io.env);
  const settings = encryptionFromEnv(io.env);
  if (!settings) {
    throw new UsageError("rekey needs the current key: set KSTATE_PASSPHRASE or KSTATE_AWS_KMS_KEY_ID (and KSTATE_FALLBACK_PASSPHRASE or KSTATE_FALLBACK_AWS_KMS_KEY_ID to the old one)");
  }
  const store = openClusterStore(values.state, io.env, io);
  const { rewritten, files } = await rekeyCluster(store, name);
  const c = colours(io);
  if (rewritten.length === 0) {
    io.stdout.write(`Nothing to do: every file of ${name} is already as the current key and patterns want it.\n`);
    return EXIT.nothingToDo;
  }
  io.stdout.write(`${c.green("Rekeyed")} ${rewritten.length} of ${files} file(s) of ${name}.\n`);
  // As create secret and create keypair warn of each file they seal that kops opens.
  const sealed = sealedFromKops(settings, rewritten);
  if (sealed.length > 0) io.stderr.write(sealedFromKopsWarning(sealed, "kops get secrets NAME -o plaintext and kops get keypairs fail on them or skip them, kops update cluster fails"));
  return EXIT.ok;
}
