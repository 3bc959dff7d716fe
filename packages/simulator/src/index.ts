export * from "./model";
export * from "./report";
export * from "./simulate";
export * from "./strategies";
