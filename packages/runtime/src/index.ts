export * from "./every";
export * from "./file-clock";
export * from "./service";
export * from "./pii";
