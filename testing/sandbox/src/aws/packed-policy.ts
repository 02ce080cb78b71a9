/**
 * STS packs the session policy, the managed policy ARNs and the session tags into one binary blob
 * with its own size limit, and reports how full it is as `PackedPolicySize` (a percentage); over
 * 100 % the call fails with `PackedPolicyTooLarge`. AWS does not publish the packing, so the
 * stand-in uses this deterministic model, which keeps the properties tests rely on (policies
 * compress, tags barely do, and the largest legal policy alone fits):
 *
 *   packed bytes = ⌈UTF-8 bytes of the minified policy JSON / 2⌉
 *                + Σ ⌈UTF-8 bytes of each managed policy ARN / 2⌉
 *                + Σ (UTF-8 bytes of tag key + UTF-8 bytes of tag value + 2)
 *   PackedPolicySize = ⌈100 × packed bytes / 2048⌉
 *
 * So a 2048-character policy alone is at most 50 %, and 50 tags of 20-character keys and
 * 20-character values (2100 bytes) overflow.
 */
export const PACKED_CAPACITY_BYTES = 2048;

const bytes = (text: string): number => Buffer.byteLength(text, "utf8");

/** Minified JSON when it parses (whitespace does not survive packing); the text itself otherwise. */
function minified(policy: string): string {
  try {
    return JSON.stringify(JSON.parse(policy));
  } catch {
    return policy;
  }
}

export function packedPolicyPercent(input: {
  policy: string | undefined;
  policyArns: readonly string[];
  tags: Readonly<Record<string, string>>;
}): number {
  let packed = input.policy === undefined ? 0 : Math.ceil(bytes(minified(input.policy)) / 2);
  for (const arn of input.policyArns) packed += Math.ceil(bytes(arn) / 2);
  for (const [key, value] of Object.entries(input.tags)) packed += bytes(key) + bytes(value) + 2;
  return Math.ceil((100 * packed) / PACKED_CAPACITY_BYTES);
}
