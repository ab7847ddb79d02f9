/**
 * X.509 as kops makes and reads it (pkg/pki): RSA 2048 keys written as PKCS#1 "RSA PRIVATE KEY",
 * certificates as one PEM "CERTIFICATE" block, CA certificates backdated 48 hours and valid ten
 * years, serial numbers from the clock and 32 random bits (kops's BuildPKISerial). node:crypto
 * makes keys and reads certificates; node-forge builds and signs them.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, randomBytes, X509Certificate } from "node:crypto";
import type Forge from "node-forge";
import { ValidationError } from "../vfs/errors";

let loadedForge: typeof Forge | undefined;
/**
 * node-forge, loaded when a certificate is first built: it is a third of the CLI's bundled code
 * (scripts/bundle-cli.js keeps it in a file of its own), and most commands never sign anything.
 */
function forge(): typeof Forge {
  loadedForge ??= require("node-forge") as typeof Forge;
  return loadedForge;
}

const HOUR = 3600_000;
/** kops backdates every certificate it issues by 48 hours (pkg/pki/csr.go). */
export const BACKDATE_MS = 48 * HOUR;
/** A CA kops makes is valid 10 × 365 days from now. */
export const CA_VALIDITY_MS = 10 * 365 * 24 * HOUR;

/** PEM as Go's encoding/pem writes it: 64 characters a line, a final newline. */
export function toPem(type: string, der: Buffer): string {
  const b64 = der.toString("base64").replace(/.{64}/g, "$&\n").replace(/\n$/, "");
  return `-----BEGIN ${type}-----\n${b64}\n-----END ${type}-----\n`;
}

/** The PEM blocks of a text, in order, as `{ type, text }` (the block's own text). */
function pemBlocks(text: string): { type: string; text: string }[] {
  const found: { type: string; text: string }[] = [];
  const re = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n[\s\S]*?-----END \1-----/g;
  for (let m = re.exec(text); m; m = re.exec(text)) found.push({ type: m[1]!, text: m[0] });
  return found;
}

/** kops's serial and key id for a new certificate: the time in nanoseconds, shifted 32 bits, or'ed with 32 random bits. */
export function pkiSerial(now: Date = new Date()): bigint {
  const nanos = BigInt(now.getTime()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n);
  return (nanos << 32n) | BigInt(randomBytes(4).readUInt32BE(0));
}

export interface ParsedCertificate {
  pem: string;
  x509: X509Certificate;
  serial: bigint;
}

/**
 * The first CERTIFICATE block of a PEM text, as kops reads one (other blocks are skipped), and
 * written back as kops writes it. `source` names the input in errors.
 */
export function parseCertificatePem(text: string, source: string): ParsedCertificate {
  const block = pemBlocks(text).find((b) => b.type === "CERTIFICATE");
  if (!block) throw new ValidationError(`${source}: no PEM CERTIFICATE block found`, { problems: [{ path: source, message: "not a PEM certificate" }] });
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(block.text);
  } catch (e) {
    throw new ValidationError(`${source}: the CERTIFICATE block does not parse: ${(e as Error).message}`, { problems: [{ path: source, message: "certificate does not parse" }] });
  }
  return { pem: toPem("CERTIFICATE", x509.raw), x509, serial: BigInt(`0x${x509.serialNumber}`) };
}

export interface ParsedKey {
  /** As kops writes it: PKCS#1 for RSA, SEC 1 for EC. */
  pem: string;
  key: KeyObject;
}

/** The first private key block (RSA, EC or PKCS#8) of a PEM text, as kops reads one. */
export function parsePrivateKeyPem(text: string, source: string): ParsedKey {
  const blocks = pemBlocks(text);
  const block = blocks.find((b) => ["RSA PRIVATE KEY", "EC PRIVATE KEY", "PRIVATE KEY"].includes(b.type));
  if (!block && blocks.some((b) => b.type === "ENCRYPTED PRIVATE KEY")) {
    throw new ValidationError(`${source}: the private key is encrypted with a passphrase; kops keeps keys unencrypted (decrypt it first, e.g. openssl pkey -in ${source} -out plain.key)`, { problems: [{ path: source, message: "encrypted private key" }] });
  }
  if (!block) throw new ValidationError(`${source}: no PEM private key block (RSA PRIVATE KEY, EC PRIVATE KEY or PRIVATE KEY) found`, { problems: [{ path: source, message: "not a PEM private key" }] });
  let key: KeyObject;
  try {
    key = createPrivateKey(block.text);
  } catch (e) {
    throw new ValidationError(`${source}: the ${block.type} block does not parse: ${(e as Error).message}`, { problems: [{ path: source, message: "private key does not parse" }] });
  }
  if (key.asymmetricKeyType === "rsa") return { key, pem: key.export({ type: "pkcs1", format: "pem" }).toString() };
  if (key.asymmetricKeyType === "ec") return { key, pem: key.export({ type: "sec1", format: "pem" }).toString() };
  throw new ValidationError(`${source}: a ${key.asymmetricKeyType} key; kops keeps RSA and EC keys only`, { problems: [{ path: source, message: "unsupported key type" }] });
}

/** A new RSA 2048 key, as kops generates one. */
export function generatePrivateKey(): ParsedKey {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return { key: privateKey, pem: privateKey.export({ type: "pkcs1", format: "pem" }).toString() };
}

function forgeKey(key: KeyObject, role: string): Forge.pki.rsa.PrivateKey {
  if (key.asymmetricKeyType !== "rsa") throw new ValidationError(`${role} is a ${key.asymmetricKeyType} key; kstate signs with RSA keys only`);
  return forge().pki.privateKeyFromPem(key.export({ type: "pkcs1", format: "pem" }).toString()) as Forge.pki.rsa.PrivateKey;
}

function serialHex(serial: bigint): string {
  const hex = serial.toString(16);
  const even = hex.length % 2 === 0 ? hex : `0${hex}`;
  return /^[89a-f]/.test(even) ? `00${even}` : even; // DER integers are signed: keep it positive
}

export type CertificateType = "ca" | "client" | "server";

export interface IssueRequest {
  type: CertificateType;
  commonName: string;
  organization?: string[];
  /** The subject's serialNumber attribute, which kops sets on the CAs it makes. */
  subjectSerial?: string;
  /** DNS names and IP addresses (server certificates). */
  alternateNames?: string[];
  serial: bigint;
  key: ParsedKey;
  notBefore: Date;
  notAfter: Date;
  /** The signer; none for a self-signed CA. */
  issuer?: { certificate: ParsedCertificate; key: ParsedKey };
}

/** A certificate built and signed as kops's IssueCert does, with the usages of its type. */
export function issueCertificate(req: IssueRequest): ParsedCertificate {
  const cert = forge().pki.createCertificate();
  const publicKey = forge().pki.publicKeyFromPem(createPublicKey(req.key.key).export({ type: "spki", format: "pem" }).toString());
  cert.publicKey = publicKey;
  cert.serialNumber = serialHex(req.serial);
  cert.validity.notBefore = req.notBefore;
  cert.validity.notAfter = req.notAfter;
  // Go orders a Name's attributes O, then CN, then serialNumber.
  const subject: Forge.pki.CertificateField[] = [
    ...(req.organization ?? []).map((o) => ({ name: "organizationName", value: o })),
    { name: "commonName", value: req.commonName },
    ...(req.subjectSerial !== undefined ? [{ type: "2.5.4.5", value: req.subjectSerial, valueTagClass: forge().asn1.Type.PRINTABLESTRING as unknown as Forge.asn1.Class }] : []),
  ];
  cert.setSubject(subject);
  const issuer = req.issuer ? forge().pki.certificateFromPem(req.issuer.certificate.pem) : undefined;
  cert.setIssuer(issuer ? issuer.subject.attributes : subject);
  const extensions: object[] = [];
  if (req.type === "ca") {
    extensions.push({ name: "keyUsage", critical: true, keyCertSign: true, cRLSign: true });
    extensions.push({ name: "basicConstraints", critical: true, cA: true });
    extensions.push({ name: "subjectKeyIdentifier" });
  } else {
    extensions.push({ name: "keyUsage", critical: true, digitalSignature: true, ...(req.type === "server" ? { keyEncipherment: true } : {}) });
    extensions.push({ name: "extKeyUsage", ...(req.type === "client" ? { clientAuth: true } : { serverAuth: true }) });
    extensions.push({ name: "basicConstraints", critical: true, cA: false });
    const names = req.alternateNames ?? [];
    if (names.length > 0) {
      extensions.push({ name: "subjectAltName", altNames: names.map((n) => (/^[\d.]+$|:/.test(n) ? { type: 7, ip: n } : { type: 2, value: n })) });
    }
  }
  const issuerKeyId = issuer?.getExtension("subjectKeyIdentifier") as { subjectKeyIdentifier?: string } | undefined;
  if (issuerKeyId?.subjectKeyIdentifier) extensions.push({ name: "authorityKeyIdentifier", keyIdentifier: forge().util.hexToBytes(issuerKeyId.subjectKeyIdentifier) });
  cert.setExtensions(extensions);
  cert.sign(forgeKey(req.issuer ? req.issuer.key.key : req.key.key, req.issuer ? "the signing key" : "the key"), forge().md.sha256.create());
  const der = Buffer.from(forge().asn1.toDer(forge().pki.certificateToAsn1(cert)).getBytes(), "binary");
  return parseCertificatePem(toPem("CERTIFICATE", der), "issued certificate");
}

/** A CA as `kops create keypair KEYSET` makes one: CN and subject serialNumber from the keyset and serial. */
export function generateCa(name: string, now: Date = new Date()): { certificate: ParsedCertificate; key: ParsedKey; serial: bigint } {
  const key = generatePrivateKey();
  const serial = pkiSerial(now);
  const certificate = issueCertificate({
    type: "ca", commonName: name, subjectSerial: serial.toString(), serial, key,
    notBefore: new Date(now.getTime() - BACKDATE_MS), notAfter: new Date(now.getTime() + CA_VALIDITY_MS),
  });
  return { certificate, key, serial };
}

/** A random 128-bit serial, as kops gives the certificates it issues from a CA. */
export function randomSerial(): bigint {
  return BigInt(`0x${randomBytes(16).toString("hex")}`);
}

/** The subject or issuer as Go prints a pkix.Name (`SERIALNUMBER=…,CN=…`): last attribute first. */
export function goNameString(nodeName: string): string {
  const GO: Record<string, string> = { CN: "CN", O: "O", OU: "OU", C: "C", ST: "ST", L: "L", street: "STREET", postalCode: "POSTALCODE", serialNumber: "SERIALNUMBER" };
  const escape = (v: string) => [...v].map((ch, i, all) => {
    const special = ",+\"\\<>;".includes(ch) || (ch === " " && (i === 0 || i === all.length - 1)) || (ch === "#" && i === 0);
    return special ? `\\${ch}` : ch;
  }).join("");
  return nodeName.split("\n").filter((l) => l !== "").reverse().map((line) => {
    const eq = line.indexOf("=");
    const type = line.slice(0, eq);
    return `${GO[type] ?? type}=${escape(line.slice(eq + 1))}`;
  }).join(",");
}
