/** Days past due and delinquency buckets: the bands have one home, @whiteslip/core. */
export { ACTIVE_BUCKETS, type Bucket, bucketFor } from "@whiteslip/core";
