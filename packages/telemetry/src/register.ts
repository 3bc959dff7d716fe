/** Preload (`node --import packages/telemetry/src/register.ts`): instruments libraries before the service imports them. */
import { instrumentLibraries } from "./instrumentations";

instrumentLibraries();
