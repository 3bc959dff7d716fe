/**
 * Delinquency buckets on the wire: the one mapping between a bucket's name (M0 … M6, CHARGED_OFF — the bands
 * themselves live in @whiteslip/core's delinquency module) and the `whiteslip.billing.v1.DelinquencyBucket` enum.
 * It is the enum's own names, so a bucket added to the proto and to core needs no table anywhere.
 */
import { DelinquencyBucket } from "./gen/whiteslip/billing/v1/billing_pb";

/** The name of a bucket, as @whiteslip/core's `Bucket` spells it. */
export type BucketName = Exclude<keyof typeof DelinquencyBucket, "UNSPECIFIED">;

/** The protobuf enum value of a bucket. */
export function bucketToProto(b: BucketName): DelinquencyBucket {
  return DelinquencyBucket[b];
}

/** The bucket of a protobuf enum value; "UNSPECIFIED" for 0 or a value this build does not know. */
export function bucketFromProto(v: DelinquencyBucket): BucketName | "UNSPECIFIED" {
  const name = DelinquencyBucket[v] as keyof typeof DelinquencyBucket | undefined;
  return name === undefined ? "UNSPECIFIED" : name;
}
