/** Preload (`node --import packages/telemetry/dist/register.js`): instruments libraries before the service imports them. */
import { instrumentLibraries } from "./instrumentations";

await instrumentLibraries();
