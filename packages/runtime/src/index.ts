export * from "./every";
export * from "./file-clock";
export * from "./transport";
export * from "./service";
export * from "./pii";
