/** @whiteslip/console: the operations console (BFF + single-page app). */
export { type RunningConsole, startConsole } from "./main";
