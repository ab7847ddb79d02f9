/** `kstate encryption show|set|clear`: the store's recorded client-side encryption policy. */
import { parseArgs } from "node:util";
import { clearEncryptionPolicy, setEncryptionPolicy } from "../../ops/encryption-policy";
import { describePolicy, POLICY_FILE, policyText, readPolicy } from "../../store/encryption-policy";
import { storeEncryption } from "../../store/secrets";
import { keyringOf, probeKeys } from "../../vfs/encrypted";
import { colours, EXIT, type Io, UsageError } from "../io";
import { encryptionFromEnv, openRawStore, requireStoreFolder } from "../open-store";

export const ENCRYPTION_HELP = `Usage: kstate encryption show [--state URL]
       kstate encryption set (--passphrase-file FILE | --kms-key-id ID) [--encrypt-patterns LIST] [--encrypt-breaks-kops] [--state URL]
       kstate encryption clear [--state URL]

The store's client-side encryption policy, recorded in the store at ${POLICY_FILE}: the kind of
key (a passphrase, or an AWS KMS key, named), the files it seals (patterns relative to each
cluster's folder) and whether sealing files kops reads was accepted. Never the key itself.

While a policy is recorded, every kstate writer of the store (each command that writes, the
ClusterConfig resource) needs its key and seals by its patterns; a writer without it is refused
and nothing is written. Files stored in plaintext before the policy still read.

  show    print the policy (JSON), or say there is none (exit 4)
  set     record the policy of the current key: --passphrase-file FILE or --kms-key-id ID
          (or KSTATE_PASSPHRASE / KSTATE_AWS_KMS_KEY_ID), --encrypt-patterns LIST (default
          secrets/**,pki/private/**). The key is proved to work first. Patterns that take in files
          kops or its nodes read (config, instancegroup/**, igconfig/**, secrets/**, pki/**, addons/**,
          manifests/**, backups/**, cluster-completed.spec) are
          refused while kops manages a cluster of the store (kops-version.txt or
          cluster-completed.spec in its folder), unless --encrypt-breaks-kops.
  clear   remove the policy: writers may then write plaintext again (files already sealed stay
          sealed; kstate rekey with KSTATE_ENCRYPT_PATTERNS= turns them back)

For clusters kops also manages, prefer the bucket's SSE-KMS (StateStore encryption: "aws:kms"):
kops and nodes read through it with the StateStore's readPolicy.

Exit codes: 0 done, 1 failure or refusal (nothing written), 2 usage error, 3 the policy changed
meanwhile, 4 nothing to do.
`;

export async function encryption(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { state: { type: "string" } } });
  const [action, ...extra] = positionals;
  if (extra.length > 0) throw new UsageError(`unexpected ${JSON.stringify(extra[0])}`);
  const root = openRawStore(values.state, io.env);
  const c = colours(io);
  switch (action) {
    case "show": {
      await requireStoreFolder(root);
      const recorded = await readPolicy(root);
      if (!recorded) {
        io.stdout.write(`No client-side encryption policy is recorded in ${root.url}.\n`);
        return EXIT.nothingToDo;
      }
      io.stdout.write(policyText(recorded.policy));
      return EXIT.ok;
    }
    case "set": {
      const settings = encryptionFromEnv(io.env);
      if (!settings) throw new UsageError("set needs the key the store is sealed with: --passphrase-file FILE or --kms-key-id ID (or KSTATE_PASSPHRASE / KSTATE_AWS_KMS_KEY_ID)");
      await requireStoreFolder(root);
      await probeKeys(keyringOf(storeEncryption(settings)));
      const { policy, changed } = await setEncryptionPolicy(root, settings);
      if (!changed) {
        io.stdout.write(`Nothing to do: ${root.url} already keeps ${describePolicy(policy)}.\n`);
        return EXIT.nothingToDo;
      }
      io.stdout.write(`${c.green("Recorded")} in ${root.url}/${POLICY_FILE}: ${describePolicy(policy)}. Every kstate writer of the store now needs this key.\n`);
      return EXIT.ok;
    }
    case "clear": {
      await requireStoreFolder(root);
      if (!(await clearEncryptionPolicy(root))) {
        io.stdout.write(`Nothing to do: no client-side encryption policy is recorded in ${root.url}.\n`);
        return EXIT.nothingToDo;
      }
      io.stdout.write(`${c.green("Cleared")} the client-side encryption policy of ${root.url}; writers no longer need its key.\n`);
      return EXIT.ok;
    }
    default:
      throw new UsageError(action === undefined ? "say show, set or clear" : `unknown action ${JSON.stringify(action)}: show, set or clear`);
  }
}
