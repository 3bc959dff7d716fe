/** Public entry of the billing service package: start it in-process. */
export { configShape, type StartedBilling, startBilling } from "./main";
