/** Public entry of the notification service package. */
export { type RunningNotification, startNotification } from "./main";
