/**
 * Trains scorecard v1 on the seeded synthetic data set and writes the artifact.
 * Usage: `pnpm --filter @whiteslip/credit train:scorecard [trained-at-date]`.
 */
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { V1_TRAINING, trainScorecard } from "../src/domain/training";

const trainedAt = process.argv[2] ?? new Date().toISOString().slice(0, 10);
const model = trainScorecard({ ...V1_TRAINING, trainedAt });
const out = fileURLToPath(new URL("../models/scorecard-v1.json", import.meta.url));
writeFileSync(out, `${JSON.stringify(model, null, 2)}\n`);
console.log(
  `wrote ${out}: ${model.version} AUC ${model.validation.auc} KS ${model.validation.ks} holdout bad rate ${model.validation.badRate}`,
);
