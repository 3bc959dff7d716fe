export * from "./model";
export * from "./report";
export * from "./simulate";
export * from "./strategies";
export * from "./what-if";
