export * from "./file-clock";
export * from "./service";
